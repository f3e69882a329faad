import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { orderAtChange, type OrderSnapshotJson } from '../../src/domain/order-change.js'
import { gamesoProvider } from '../../src/providers/gameso/index.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { propertyParameters } from '../helpers/property.js'

// A change's order is rendered lazily (migration 20261202120000_pending_change_snapshots): while the
// order is still as the change left it, readers render it from the tables; the merge renders it
// from the row as it was before overwriting that row. Whatever sequence of snapshots an order
// goes through, every change must carry the order exactly as the read route showed it right after
// that change.

const API_KEY = 'change-snapshot-key'
const completed = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

interface Step { status: GameSoOrder['status'], secondsLater: number, userId: string, quantity: number, source: 'webhook' | 'poll' }

const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  status: fc.constantFrom<GameSoOrder['status']>('pending', 'processing', 'completed', 'failed'),
  // Zero or negative: an equal clock (rank decides) or an older snapshot (stale).
  secondsLater: fc.integer({ min: -2, max: 3 }),
  userId: fc.constantFrom('player-a', 'player-b'),
  quantity: fc.integer({ min: 1, max: 3 }),
  source: fc.constantFrom<Step['source']>('webhook', 'poll')
})

describe('a change carries the order as the read route showed it right after that change', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY }), { db: database.db })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  async function readOrder (reference: string): Promise<unknown> {
    const response = await app.inject({ method: 'GET', url: `/v1/orders/${reference}`, headers: { 'x-api-key': API_KEY } })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  async function changes (reference: string): Promise<OrderSnapshotJson[]> {
    return (await database.db.pool.query<{ order: OrderSnapshotJson }>(`
      SELECT coalesce(order_snapshot, om_order_snapshot(order_id)) AS "order"
        FROM order_changes WHERE provider = 'gameso' AND reference = $1 ORDER BY id`, [reference])).rows.map((row) => row.order)
  }

  it('for any sequence of snapshots, stale, duplicate and same-status ones among them', async () => {
    let run = 0
    await fc.assert(fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }), async (steps) => {
      const reference = `change-snapshot-${run++}`
      const expected: unknown[] = []
      let clock = Date.parse('2026-04-01T00:00:00.000Z')
      for (const step of steps) {
        clock += step.secondsLater * 1000
        const order = gamesoOrderSchema.parse({
          ...completed,
          reference_id: reference,
          status: step.status,
          user_id: step.userId,
          updated_at: new Date(clock).toISOString(),
          items: completed.items.map((item) => ({ ...item, quantity: step.quantity }))
        })
        const before = (await changes(reference)).length
        await app.orderSync.applySnapshot(gamesoOrderToSnapshot(order), { source: step.source })
        const after = (await changes(reference)).length
        // A merge makes at most one change per order; the read right after it is that change's order.
        expect(after - before).toBeLessThanOrEqual(1)
        if (after > before) expected.push(await readOrder(reference))
      }
      const rendered = (await changes(reference)).map((json) => gamesoProvider.presentChange(orderAtChange(json)))
      expect(rendered).toEqual(expected)
    }), propertyParameters(40))
  }, 120_000)
})
