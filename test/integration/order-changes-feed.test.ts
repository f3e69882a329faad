import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { inTransaction } from '../../src/db/transaction.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema } from '../../src/providers/gameso/gameso-schemas.js'
import { registerOrder } from '../../src/repositories/order-commands-repository.js'
import { lockOrderKey } from '../../src/repositories/orders-repository.js'
import { decodeFeedCursor, encodeFeedCursor } from '../../src/routes/order-changes.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { hostileJsonText } from '../helpers/hostile-values.js'
import { propertyParameters, SUITE_SEED } from '../helpers/property.js'

const API_KEY = 'feed-test-key'
const completed = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data

interface Change { provider: string, reference_id: string, from: string | null, to: string, source: string, changed_at: string, order: Record<string, unknown> }
interface Page { changes: Change[], next_cursor: string }

/** A small seeded generator for the writers' timing: the run is reproducible from the printed seed. */
function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('GET /v1/orders/changes (SPEC §2.5)', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 30 })
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, CHANGES_FEED_POLL_INTERVAL_MS: '20' }), { db: database.db })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  function get (query: string): Promise<LightMyRequestResponse> {
    return app.inject({ method: 'GET', url: `/v1/orders/changes${query}`, headers: { 'x-api-key': API_KEY } })
  }

  async function page (cursor: string | null, extra = ''): Promise<Page> {
    const response = await get(`?limit=50${cursor === null ? '' : `&cursor=${cursor}`}${extra}`)
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  /** Reads on from `cursor` until a page names `reference` (the feed may hold back behind open transactions elsewhere on the server). */
  async function readUntil (cursor: string | null, reference: string): Promise<{ changes: Change[], cursor: string }> {
    const changes: Change[] = []
    let position = cursor
    for (;;) {
      const next = await page(position, '&wait=5')
      changes.push(...next.changes)
      position = next.next_cursor
      if (changes.some((change) => change.reference_id === reference)) return { changes, cursor: position }
    }
  }

  /** The position after everything servable now: what a new test starts reading from. */
  async function readToEnd (): Promise<string> {
    let position: string | null = null
    for (;;) {
      const next = await page(position)
      if (next.changes.length === 0) return next.next_cursor
      position = next.next_cursor
    }
  }

  async function snapshot (reference: string, status: 'pending' | 'processing' | 'completed' | 'failed', second: number) {
    const order = gamesoOrderSchema.parse({ ...completed, reference_id: reference, status, updated_at: `2026-04-02T00:00:${String(second).padStart(2, '0')}.000Z` })
    await app.orderSync.applySnapshot(gamesoOrderToSnapshot(order), { source: 'webhook' })
  }

  it('serves every change with the order as GET answered it then, and next_cursor resumes after it', async () => {
    const start = await readToEnd()
    await snapshot('feed-one', 'processing', 1)
    const processingRead = (await app.inject({ method: 'GET', url: '/v1/orders/feed-one', headers: { 'x-api-key': API_KEY } })).json()
    await snapshot('feed-one', 'completed', 2)
    const { changes, cursor } = await readUntil(start, 'feed-one')
    const mine = [...changes, ...(await page(cursor)).changes].filter((change) => change.reference_id === 'feed-one')
    expect(mine.map((change) => [change.from, change.to, change.source, change.provider])).toEqual([
      [null, 'processing', 'webhook', 'gameso'], ['processing', 'completed', 'webhook', 'gameso']
    ])
    expect(mine[0]?.order).toEqual(processingRead)
    expect(mine[1]?.order.status).toBe('completed')
  }, 60_000)

  it('a change whose transaction commits late is served after, never skipped, even though its id is lower', async () => {
    const start = await readToEnd()
    const slow = await database.db.pool.connect()
    try {
      await slow.query('BEGIN')
      await lockOrderKey(slow, 'gameso', 'feed-slow')
      await registerOrder(slow, { provider: 'gameso', reference: 'feed-slow', source: 'track', firstPollDelayMs: 60_000 })
      // A later transaction commits first, with a higher id.
      await snapshot('feed-fast', 'completed', 1)
      const ids = (await database.db.pool.query<{ reference: string, id: string }>(
        "SELECT reference, id FROM order_changes WHERE reference IN ('feed-fast') ORDER BY id")).rows
      expect(ids).toHaveLength(1)
      // While the slow one is open, nothing after it is served: not even the committed fast one.
      const held = await page(start, '&wait=1')
      expect(held.changes.map((change) => change.reference_id)).not.toContain('feed-fast')
      await slow.query('COMMIT')
    } finally {
      slow.release()
    }
    const { changes } = await readUntil(start, 'feed-fast')
    const order = changes.map((change) => change.reference_id).filter((reference) => reference === 'feed-slow' || reference === 'feed-fast')
    expect(order).toEqual(['feed-slow', 'feed-fast'])
  }, 60_000)

  it('read while several connections write, slow commits among them: no gap and no repeat', async () => {
    const random = seededRandom(SUITE_SEED)
    const start = await readToEnd()
    const before = Number((await database.db.pool.query('SELECT coalesce(max(id), 0) AS max FROM order_changes')).rows[0].max)
    const writers = Array.from({ length: 6 }, (_unused, writer) => (async () => {
      for (let step = 0; step < 12; step++) {
        const reference = `feed-concurrent-${writer}-${step}`
        if (random() < 0.4) {
          // A transaction that writes early and commits late.
          await inTransaction(database.db, async (client) => {
            await lockOrderKey(client, 'gameso', reference)
            await registerOrder(client, { provider: 'gameso', reference, source: 'track', firstPollDelayMs: 60_000 })
            await sleep(Math.floor(random() * 80))
          })
        } else {
          await snapshot(reference, 'completed', 1)
        }
      }
    })())
    let writing = true
    const done = Promise.all(writers).finally(() => { writing = false })
    const served: string[] = []
    let cursor = start
    for (;;) {
      const stillWriting = writing
      const next = await page(cursor, '&wait=1')
      served.push(...next.changes.map((change) => change.reference_id))
      cursor = next.next_cursor
      if (!stillWriting && next.changes.length === 0) {
        const total = Number((await database.db.pool.query('SELECT count(*) FROM order_changes WHERE id > $1', [before])).rows[0].count)
        if (served.filter((reference) => reference.startsWith('feed-concurrent-')).length >= total) break
      }
    }
    await done
    const concurrent = served.filter((reference) => reference.startsWith('feed-concurrent-'))
    const written = (await database.db.pool.query<{ reference: string }>('SELECT reference FROM order_changes WHERE id > $1', [before])).rows.map((row) => row.reference)
    expect(new Set(concurrent).size).toBe(concurrent.length)
    expect([...concurrent].sort()).toEqual([...written].sort())
    expect(concurrent).toHaveLength(72)
  }, 120_000)

  it('an empty page keeps the cursor it was given, and the beginning has a cursor too', async () => {
    const position = await readToEnd()
    expect((await page(position)).next_cursor).toBe(position)
    const first = await page(null)
    expect(first.changes.length).toBeGreaterThan(0)
    expect(decodeFeedCursor(first.next_cursor)).not.toBeNull()
    expect(decodeFeedCursor(encodeFeedCursor({ transactionId: '0', id: '0' }))).toEqual({ transactionId: '0', id: '0' })
  }, 60_000)

  it('bad cursors, limits and waits are 400 VALIDATION_ERROR in the one shape', async () => {
    const badCursor = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.oneof(hostileJsonText, fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
        fc.tuple(fc.bigInt({ min: -5n, max: 2n ** 70n }), fc.bigInt({ min: -5n, max: 2n ** 70n })).filter(([a, b]) => a < 0n || b < 0n || a > 2n ** 63n - 1n || b > 2n ** 63n - 1n).map(([a, b]) => JSON.stringify([String(a), String(b)])))
        .map((text) => Buffer.from(text).toString('base64url'))
    ).filter((value) => decodeFeedCursor(value) === null)
    const badNumber = (max: number) => fc.oneof(fc.constantFrom('-1', '1e1', '0x1', ' 1', '', 'x', '1.5'), fc.integer({ min: max + 1, max: 10_000_000 }).map(String))
    await fc.assert(fc.asyncProperty(badCursor, badNumber(500), badNumber(30), async (cursor, limit, wait) => {
      for (const query of [`?cursor=${encodeURIComponent(cursor)}`, `?limit=${encodeURIComponent(limit)}`, `?wait=${encodeURIComponent(wait)}`, '?limit=0']) {
        const response = await get(query)
        expect(response.statusCode, `${query} → ${response.body}`).toBe(400)
        expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message: expect.any(String) })
      }
    }), propertyParameters(60))
    expect((await get('?unknown=1')).statusCode).toBe(400)
  })
})
