import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import {
  discardCreatePlaceholder, pollUnconfirmedNow, registerOrder, type PlaceholderInput
} from '../../src/repositories/order-commands-repository.js'
import { lockOrderKey } from '../../src/repositories/orders-repository.js'
import { inTransaction } from '../../src/db/transaction.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const docsOrder = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

function upstream (reference: string, status: GameSoOrder['status'], updatedAt: string) {
  return gamesoOrderToSnapshot(gamesoOrderSchema.parse({ ...docsOrder, reference_id: reference, status, updated_at: updatedAt }))
}

describe('order placeholders (create and track) against PostgreSQL', () => {
  let database: TestDatabase
  let sync: OrderSync

  beforeAll(async () => {
    database = await createTestDatabase()
    sync = new OrderSync(database.db, 60_000)
  })
  afterAll(async () => { await database.drop() })

  function register (input: Omit<PlaceholderInput, 'provider' | 'firstPollDelayMs'> & { firstPollDelayMs?: number }) {
    const full: PlaceholderInput = { provider: 'gameso', firstPollDelayMs: 0, ...input }
    return inTransaction(database.db, async (client) => {
      await lockOrderKey(client, full.provider, full.reference)
      return registerOrder(client, full)
    })
  }

  async function stored (reference: string) {
    const order = await database.db.pool.query(`
      SELECT *, (extract(epoch FROM next_poll_at - tracking_since) * 1000)::int AS poll_delay_ms
        FROM orders WHERE reference = $1`, [reference])
    const id = order.rows[0]?.id
    const items = await database.db.pool.query('SELECT * FROM order_items WHERE order_id = $1 ORDER BY position', [id])
    const history = await database.db.pool.query('SELECT * FROM order_status_history WHERE order_id = $1 ORDER BY id', [id])
    return { order: order.rows[0], items: items.rows, history: history.rows }
  }

  it('records a create as a pending placeholder with no upstream clock, due after the delay', async () => {
    const result = await register({
      reference: 'ref-new',
      source: 'create',
      userId: 'u1',
      serverId: 's1',
      characterId: null,
      firstPollDelayMs: 2500,
      items: [{ sku: 'DIAMOND_100', quantity: 2 }, { sku: 'GOLD_5', quantity: 1 }]
    })
    expect(result).toMatchObject({ outcome: 'created', confirmed: false, isFinal: false, reconcileState: 'active' })
    const { order, items, history } = await stored('ref-new')
    expect(order).toMatchObject({
      id: result.orderId,
      provider: 'gameso',
      status: 'pending',
      provider_status: 'pending',
      status_rank: 1,
      is_final: false,
      upstream_updated_at: null,
      provider_order_id: null,
      user_id: 'u1',
      server_id: 's1',
      character_id: null,
      last_source: 'create',
      reconcile_state: 'active',
      poll_delay_ms: 2500
    })
    expect(items.map((item) => [item.position, item.sku, item.quantity, item.completed_quantity])).toEqual([[0, 'DIAMOND_100', 2, null], [1, 'GOLD_5', 1, null]])
    expect(history.map((row) => [row.from_status, row.to_status, row.source])).toEqual([[null, 'pending', 'create']])
  })

  it('yields to any upstream snapshot, which replaces the requested items', async () => {
    await register({ reference: 'ref-yield', source: 'create', items: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] })
    // The pending answer of the create itself: same status, so no new history row.
    expect((await sync.applySnapshot(upstream('ref-yield', 'pending', '2026-01-01T00:00:01.000Z'), { source: 'create' })).decision).toBe('apply')
    expect((await sync.applySnapshot(upstream('ref-yield', 'completed', '2026-01-01T00:00:02.000Z'), { source: 'webhook' })).decision).toBe('apply')
    const { order, items, history } = await stored('ref-yield')
    expect(order).toMatchObject({ status: 'completed', reconcile_state: 'final', provider_order_id: docsOrder.order_number })
    expect(items.map((item) => item.sku)).toEqual(['ROMC-Z-1800K'])
    expect(history.map((row) => [row.from_status, row.to_status, row.source])).toEqual([[null, 'pending', 'create'], ['pending', 'completed', 'webhook']])
  })

  it('leaves an order it already follows as it is, without a second history row', async () => {
    const first = await register({ reference: 'ref-twice', source: 'track', firstPollDelayMs: 0 })
    const before = (await stored('ref-twice')).order
    const second = await register({ reference: 'ref-twice', source: 'create', userId: 'someone-else', firstPollDelayMs: 60_000 })
    expect(second).toEqual({ orderId: first.orderId, outcome: 'existing', confirmed: false, isFinal: false, reconcileState: 'active' })
    const { order, history } = await stored('ref-twice')
    expect(order).toMatchObject({ last_source: 'track', user_id: null, next_poll_at: before.next_poll_at })
    expect(history).toHaveLength(1)
  })

  it('reports a final order as confirmed and final, untouched', async () => {
    await sync.applySnapshot(upstream('ref-final', 'failed', '2026-01-01T00:00:05.000Z'), { source: 'webhook' })
    const result = await register({ reference: 'ref-final', source: 'track' })
    expect(result).toMatchObject({ outcome: 'existing', confirmed: true, isFinal: true, reconcileState: 'final' })
    expect((await stored('ref-final')).order).toMatchObject({ status: 'failed', next_poll_at: null })
  })

  it.each(['abandoned', 'not_found_upstream'])('follows a %s order again, with fresh counters', async (state) => {
    const reference = `ref-resume-${state}`
    const { orderId } = await register({ reference, source: 'create' })
    await database.db.pool.query(`
      UPDATE orders SET reconcile_state = $2, next_poll_at = NULL, poll_attempts = 9, not_found_count = 5,
          last_poll_error = 'HTTP 404', tracking_since = now() - interval '2 days'
        WHERE id = $1`, [orderId, state])
    const result = await register({ reference, source: 'track', firstPollDelayMs: 1000 })
    expect(result).toEqual({ orderId, outcome: 'resumed', confirmed: false, isFinal: false, reconcileState: 'active' })
    const { order, history } = await stored(reference)
    expect(order).toMatchObject({ reconcile_state: 'active', poll_attempts: 0, not_found_count: 0, last_poll_error: null, poll_delay_ms: 1000 })
    expect(order.tracking_since.getTime()).toBeGreaterThan(Date.now() - 60_000)
    expect(history).toHaveLength(1)
  })

  it('discards a create placeholder, but never one the upstream has confirmed or one tracked', async () => {
    const refused = await register({ reference: 'ref-refused', source: 'create', items: [{ sku: 'X', quantity: 1 }] })
    expect(await discardCreatePlaceholder(database.db.pool, refused.orderId)).toBe(true)
    expect((await stored('ref-refused')).order).toBeUndefined()
    const orphans = await database.db.pool.query('SELECT count(*)::int AS n FROM order_items WHERE order_id = $1', [refused.orderId])
    expect(orphans.rows[0].n).toBe(0)

    const confirmed = await register({ reference: 'ref-confirmed', source: 'create' })
    await sync.applySnapshot(upstream('ref-confirmed', 'pending', '2026-01-01T00:00:01.000Z'), { source: 'webhook' })
    expect(await discardCreatePlaceholder(database.db.pool, confirmed.orderId)).toBe(false)

    const tracked = await register({ reference: 'ref-tracked', source: 'track' })
    expect(await discardCreatePlaceholder(database.db.pool, tracked.orderId)).toBe(false)
    expect((await stored('ref-confirmed')).order).toBeDefined()
    expect((await stored('ref-tracked')).order).toBeDefined()
  })

  it('makes an unconfirmed order due now, and nothing else', async () => {
    const waiting = await register({ reference: 'ref-due', source: 'create', firstPollDelayMs: 3_600_000 })
    await pollUnconfirmedNow(database.db.pool, waiting.orderId)
    const due = await database.db.pool.query('SELECT next_poll_at <= now() AS due FROM orders WHERE id = $1', [waiting.orderId])
    expect(due.rows[0].due).toBe(true)

    const confirmed = await register({ reference: 'ref-not-due', source: 'create' })
    await sync.applySnapshot(upstream('ref-not-due', 'processing', '2026-01-01T00:00:01.000Z'), { source: 'webhook' })
    await pollUnconfirmedNow(database.db.pool, confirmed.orderId)
    const later = await database.db.pool.query('SELECT next_poll_at > now() AS later FROM orders WHERE id = $1', [confirmed.orderId])
    expect(later.rows[0].later).toBe(true)
  })
})
