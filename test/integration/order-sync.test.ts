import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const completed = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

function variant (reference: string, status: GameSoOrder['status'], updatedAt: string, overrides: Partial<GameSoOrder> = {}): GameSoOrder {
  return gamesoOrderSchema.parse({ ...completed, reference_id: reference, status, updated_at: updatedAt, ...overrides })
}

describe('OrderSync.applySnapshot against PostgreSQL', () => {
  let database: TestDatabase
  let sync: OrderSync

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    sync = new OrderSync(database.db, 60_000)
  })
  afterAll(async () => { await database.drop() })

  async function stored (reference: string) {
    const order = await database.db.pool.query('SELECT * FROM orders WHERE reference = $1', [reference])
    const items = await database.db.pool.query('SELECT * FROM order_items WHERE order_id = $1 ORDER BY position', [order.rows[0]?.id])
    const history = await database.db.pool.query('SELECT * FROM order_status_history WHERE order_id = $1 ORDER BY id', [order.rows[0]?.id])
    return { order: order.rows[0], items: items.rows, history: history.rows }
  }

  it('stores the docs payload exactly: amounts, clock, items, history', async () => {
    const result = await sync.applySnapshot(gamesoOrderToSnapshot(gamesoOrderSchema.parse(completed)), { source: 'webhook' })
    expect(result).toMatchObject({ decision: 'insert', outcome: 'applied' })
    const { order, items, history } = await stored(completed.reference_id)
    expect(order).toMatchObject({
      provider: 'gameso',
      provider_order_id: 'ord_Np3O7rcsqNmBTwD7',
      status: 'completed',
      is_final: true,
      subtotal_amount: '101.00',
      total_amount: '101.00',
      currency: 'THB',
      reconcile_state: 'final',
      next_poll_at: null
    })
    expect(order.upstream_updated_at.toISOString()).toBe('2026-02-23T08:08:15.000Z')
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({ sku: 'ROMC-Z-1800K', quantity: 1, completed_quantity: 1, failed_quantity: 0, total_amount: '101.00' })
    expect(history).toHaveLength(1)
    expect(history[0]).toMatchObject({ from_status: null, to_status: 'completed', source: 'webhook' })
  })

  it('applies newer snapshots, ignores older ones and never leaves a final state', async () => {
    const ref = 'ref-monotonic'
    expect((await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'processing', '2026-01-01T00:00:02.000Z')), { source: 'webhook' })).decision).toBe('insert')
    expect((await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'pending', '2026-01-01T00:00:01.000Z')), { source: 'webhook' })).decision).toBe('stale')
    expect((await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'completed', '2026-01-01T00:00:03.000Z')), { source: 'poll' })).decision).toBe('apply')
    expect((await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'processing', '2026-01-01T00:00:09.000Z')), { source: 'webhook' })).decision).toBe('stale')
    const { order, history } = await stored(ref)
    expect(order.status).toBe('completed')
    expect(history.map((row) => [row.from_status, row.to_status, row.source])).toEqual([[null, 'processing', 'webhook'], ['processing', 'completed', 'poll']])
  })

  it('replaces items as a set with their snapshot', async () => {
    const ref = 'ref-items'
    const twoItems = variant(ref, 'processing', '2026-01-01T00:00:01.000Z', {
      items: [completed.items[0]!, { ...completed.items[0]!, sku: 'DIAMOND_100' }]
    })
    await sync.applySnapshot(gamesoOrderToSnapshot(twoItems), { source: 'webhook' })
    expect((await stored(ref)).items).toHaveLength(2)
    await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'completed', '2026-01-01T00:00:02.000Z')), { source: 'webhook' })
    expect((await stored(ref)).items.map((item) => item.sku)).toEqual(['ROMC-Z-1800K'])
  })

  it('flags a tie that disagrees for an upstream re-fetch and keeps the stored snapshot', async () => {
    const ref = 'ref-tie'
    await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'completed', '2026-01-01T00:00:05.000Z')), { source: 'webhook' })
    const tie = await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'failed', '2026-01-01T00:00:05.000Z', { failure_code: 'X' })), { source: 'webhook' })
    expect(tie).toMatchObject({ decision: 'conflict', outcome: 'stale' })
    const { order } = await stored(ref)
    expect(order).toMatchObject({ status: 'completed', refetch_requested: true, reconcile_state: 'active' })
    expect(order.next_poll_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
    // The upstream's answer settles the tie.
    const settled = await sync.applySnapshot(gamesoOrderToSnapshot(variant(ref, 'failed', '2026-01-01T00:00:05.000Z', { failure_code: 'X' })), { source: 'poll', authoritative: true })
    expect(settled.decision).toBe('apply')
    expect((await stored(ref)).order).toMatchObject({ status: 'failed', refetch_requested: false, reconcile_state: 'final' })
  })
})
