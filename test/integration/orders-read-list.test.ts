import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { registerOrder } from '../../src/repositories/order-commands-repository.js'
import { inTransaction } from '../../src/db/transaction.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const API_KEY = 'orders-list-test-key'
const template = (JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')) as { data: GameSoOrder }).data

interface Seed { reference: string, status: GameSoOrder['status'], user: string, second: number, provider?: 'midasbuy' }

// Inserted in this order, so ids grow down the list; a2 and a3 share a clock.
const SEEDS: Seed[] = [
  { reference: 'a1', status: 'completed', user: 'u1', second: 1 },
  { reference: 'a2', status: 'processing', user: 'u2', second: 2 },
  { reference: 'a3', status: 'failed', user: 'u1', second: 2 },
  { reference: 'a4', status: 'completed', user: 'u2', second: 3 },
  { reference: 'a5', status: 'pending', user: 'u1', second: 4 },
  { reference: 'm1', status: 'completed', user: 'u3', second: 5, provider: 'midasbuy' },
  { reference: 'a6', status: 'completed', user: 'u1', second: 6 }
]
/** Recorded locally, never reported by an upstream: no clock, so they lead the list. */
const PLACEHOLDERS = ['p1', 'p2']
/** Newest first by clock, then by id; orders without a clock first. */
const EXPECTED = ['p2', 'p1', 'a6', 'm1', 'a5', 'a4', 'a3', 'a2', 'a1']

const at = (second: number) => `2026-01-01T00:00:0${second}.000Z`

interface Page { data: Array<{ reference_id: string, provider: string, currency: string | null, items: unknown[] }>, next_cursor: string | null }

describe('GET /v1/orders (list and search)', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let sync: OrderSync

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': API_KEY } })

  async function walk (query: string): Promise<{ references: string[], pages: Page[] }> {
    const pages: Page[] = []
    let cursor: string | null = null
    do {
      const response = await get(`/v1/orders?${query}${cursor === null ? '' : `&cursor=${cursor}`}`)
      expect(response.statusCode).toBe(200)
      const page = response.json() as Page
      pages.push(page)
      cursor = page.next_cursor
    } while (cursor !== null && pages.length < 50)
    return { references: pages.flatMap((page) => page.data.map((order) => order.reference_id)), pages }
  }

  async function seed (entry: Seed) {
    const order = gamesoOrderSchema.parse({
      ...template, order_number: `ord_${entry.reference}`, reference_id: entry.reference, user_id: entry.user, status: entry.status, updated_at: at(entry.second)
    })
    const snapshot = gamesoOrderToSnapshot(order)
    await sync.applySnapshot(entry.provider ? { ...snapshot, provider: entry.provider, currency: 'USD', totalAmount: '100.123' } : snapshot, { source: 'webhook' })
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY }), { db: database.db })
    await app.ready()
    sync = new OrderSync(database.db, 60_000)
    for (const entry of SEEDS) await seed(entry)
    for (const reference of PLACEHOLDERS) {
      await inTransaction(database.db, (client) => registerOrder(client, {
        provider: 'gameso', reference, source: 'track', userId: 'u9', firstPollDelayMs: 60_000
      }))
    }
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  // Tests that add orders take them away again: every test reads exactly the seeded orders.
  afterEach(async () => {
    await database.db.pool.query('DELETE FROM orders WHERE reference <> ALL($1::text[])', [[...SEEDS.map((entry) => entry.reference), ...PLACEHOLDERS]])
  })

  it.each([1, 2, 4, 500])('pages through every order exactly once, newest first, %i at a time', async (limit) => {
    const { references, pages } = await walk(`limit=${limit}`)
    expect(references).toEqual(EXPECTED)
    expect(pages.every((page) => page.data.length <= limit)).toBe(true)
    expect(pages.at(-1)?.next_cursor).toBeNull()
  })

  it('gives each entry the GameSO order shape plus its provider and currency', async () => {
    const { pages } = await walk('limit=500')
    const byReference = new Map(pages[0]!.data.map((order) => [order.reference_id, order]))
    expect(byReference.get('a6')).toMatchObject({ provider: 'gameso', currency: 'THB', status: 'completed', total_amount: '101.00', items: [{ sku: 'ROMC-Z-1800K' }] })
    expect(byReference.get('m1')).toMatchObject({ provider: 'midasbuy', currency: 'USD', total_amount: '100.123' })
    expect(byReference.get('p1')).toMatchObject({ provider: 'gameso', order_number: null, status: 'pending', items: [] })
  })

  it.each([
    ['status=completed', ['a6', 'm1', 'a4', 'a1']],
    ['provider=midasbuy', ['m1']],
    ['provider=gameso&status=completed', ['a6', 'a4', 'a1']],
    ['user_id=u1', ['a6', 'a5', 'a3', 'a1']],
    [`updated_since=${at(2)}&updated_until=${at(4)}`, ['a4', 'a3', 'a2']],
    [`status=completed&updated_since=${at(3)}`, ['a6', 'm1', 'a4']],
    ['status=refunded', []]
  ])('filters by %s', async (query, expected) => {
    for (const limit of [1, 500]) expect((await walk(`${query}&limit=${limit}`)).references).toEqual(expected)
  })

  it('keeps its place while newer orders arrive between pages', async () => {
    const first = (await get('/v1/orders?status=completed&limit=3')).json() as Page
    expect(first.data.map((order) => order.reference_id)).toEqual(['a6', 'm1', 'a4'])
    await seed({ reference: 'a7', status: 'completed', user: 'u1', second: 7 })
    const second = (await get(`/v1/orders?status=completed&limit=3&cursor=${first.next_cursor}`)).json() as Page
    expect(second.data.map((order) => order.reference_id)).toEqual(['a1'])
    expect(second.next_cursor).toBeNull()
  })

  it('fetches a page and all its items in one statement', async () => {
    const query = vi.spyOn(database.db.pool, 'query')
    try {
      const response = await get('/v1/orders?limit=500')
      expect(response.statusCode).toBe(200)
      expect(response.json().data.length).toBeGreaterThan(5)
      expect(query).toHaveBeenCalledTimes(1)
    } finally {
      query.mockRestore()
    }
  })

  it('defaults to 50 orders a page and allows up to 500', async () => {
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, is_final, last_source, upstream_updated_at)
      SELECT 'gameso', 'bulk-' || n, 'refunded', 'refunded', 4, true, 'poll', timestamptz '2025-01-01' + n * interval '1 second'
        FROM generate_series(1, 120) AS n`)
    const firstPage = (await get('/v1/orders?status=refunded')).json() as Page
    expect(firstPage.data).toHaveLength(50)
    expect(firstPage.data[0]?.reference_id).toBe('bulk-120')
    expect(firstPage.next_cursor).not.toBeNull()
    expect(((await get('/v1/orders?status=refunded&limit=500')).json() as Page).data).toHaveLength(120)
  })

  it.each([
    ['status=shipped', 'query.status'],
    ['provider=acme', 'query.provider'],
    ['limit=0', 'query.limit'],
    ['limit=501', 'query.limit'],
    ['limit=ten', 'query.limit'],
    ['user_id=', 'query.user_id'],
    ['updated_since=yesterday', 'query.updated_since'],
    ['updated_until=2026-01-01', 'query.updated_until'],
    [`updated_since=${at(4)}&updated_until=${at(2)}`, 'query.updated_until'],
    ['cursor=not-a-cursor', 'query.cursor'],
    [`cursor=${Buffer.from('[null,"1; DROP TABLE orders"]').toString('base64url')}`, 'query.cursor'],
    ['stauts=completed', 'stauts']
  ])('answers %s with 400 VALIDATION_ERROR naming %s', async (query, field) => {
    const response = await get(`/v1/orders?${query}`)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message: expect.stringContaining(field) })
  })
})
