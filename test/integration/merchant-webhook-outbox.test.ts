import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { inTransaction } from '../../src/db/transaction.js'
import { orderAtChange, type OrderSnapshotJson } from '../../src/domain/order-change.js'
import { gamesoProvider } from '../../src/providers/gameso/index.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { midasbuyProvider } from '../../src/providers/midasbuy/index.js'
import { midasbuyOrderToSnapshot } from '../../src/providers/midasbuy/midasbuy-mapping.js'
import { midasbuyOrderSchema } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { registerOrder } from '../../src/repositories/order-commands-repository.js'
import { lockOrderKey } from '../../src/repositories/orders-repository.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { midasbuyOrder } from '../helpers/midasbuy-notifications.js'

const API_KEY = 'outbox-test-key'
const completed = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

function gameso (reference: string, status: GameSoOrder['status'], updatedAt: string): GameSoOrder {
  return gamesoOrderSchema.parse({ ...completed, reference_id: reference, status, updated_at: updatedAt })
}

interface OutboxRow { endpoint_id: string, event: string, to_status: string, from_status: string | null, source: string, provider: string, order_snapshot: OrderSnapshotJson }

describe('the outbox: one event per status change per subscribed endpoint, in the change\'s transaction', () => {
  let database: TestDatabase
  let app: FastifyInstance
  const endpoints: Record<'defaults' | 'everything' | 'inactive', string> = { defaults: '', everything: '', inactive: '' }

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY }), { db: database.db })
    await app.ready()
    const register = async (body: Record<string, unknown>) => {
      const response = await app.inject({ method: 'POST', url: '/v1/merchant-webhooks', headers: { 'x-api-key': API_KEY }, payload: body })
      expect(response.statusCode).toBe(201)
      return String(response.json().id)
    }
    endpoints.defaults = await register({ url: 'http://127.0.0.1:1/defaults', secret: 'defaults-secret-0123456789' })
    endpoints.everything = await register({ url: 'http://127.0.0.1:1/all', secret: 'everything-secret-0123456789', events: ['*'] })
    endpoints.inactive = await register({ url: 'http://127.0.0.1:1/off', secret: 'inactive-secret-0123456789', events: ['*'] })
    const off = await app.inject({ method: 'PATCH', url: `/v1/merchant-webhooks/${endpoints.inactive}`, headers: { 'x-api-key': API_KEY }, payload: { status: 'inactive' } })
    expect(off.statusCode).toBe(200)
  })
  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  async function outbox (reference: string): Promise<OutboxRow[]> {
    return (await database.db.pool.query<OutboxRow>(`
      SELECT d.endpoint_id, d.event, c.to_status, c.from_status, c.source, c.provider,
             coalesce(c.order_snapshot, om_order_snapshot(c.order_id)) AS order_snapshot
        FROM merchant_webhook_deliveries d JOIN order_changes c ON c.id = d.change_id
       WHERE c.reference = $1 ORDER BY d.id`, [reference])).rows
  }

  async function changeCount (reference: string): Promise<number> {
    return Number((await database.db.pool.query('SELECT count(*) FROM order_changes WHERE reference = $1', [reference])).rows[0].count)
  }

  async function readOrder (reference: string): Promise<unknown> {
    const response = await app.inject({ method: 'GET', url: `/v1/orders/${reference}`, headers: { 'x-api-key': API_KEY } })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  it('writes an event per change for each endpoint subscribed to it, data equal to the GET at that change', async () => {
    const ref = 'outbox-lifecycle'
    const steps: Array<[GameSoOrder['status'], string]> = [
      ['pending', '2026-03-01T00:00:01.000Z'], ['processing', '2026-03-01T00:00:02.000Z'], ['completed', '2026-03-01T00:00:03.000Z']
    ]
    const seen: unknown[] = []
    for (const [status, at] of steps) {
      await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, status, at)), { source: 'webhook' })
      seen.push(await readOrder(ref))
    }
    const rows = await outbox(ref)
    expect(rows.map((row) => [row.endpoint_id, row.event])).toEqual([
      [endpoints.everything, 'order.pending'],
      [endpoints.everything, 'order.processing'],
      [endpoints.defaults, 'order.completed'],
      [endpoints.everything, 'order.completed']
    ])
    const rendered = rows.filter((row) => row.endpoint_id === endpoints.everything)
      .map((row) => gamesoProvider.presentChange(orderAtChange(row.order_snapshot)))
    expect(rendered).toEqual(seen)
  })

  it('writes nothing for a duplicate, a stale snapshot or one that leaves the status unchanged', async () => {
    const ref = 'outbox-quiet'
    await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'processing', '2026-03-02T00:00:02.000Z')), { source: 'webhook' })
    const before = await outbox(ref)
    expect(before.map((row) => row.event)).toEqual(['order.processing'])
    const duplicate = await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'processing', '2026-03-02T00:00:02.000Z')), { source: 'webhook' })
    expect(duplicate.decision).toBe('duplicate')
    const stale = await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'pending', '2026-03-02T00:00:01.000Z')), { source: 'poll' })
    expect(stale.decision).toBe('stale')
    const unchanged = await app.orderSync.applySnapshot(gamesoOrderToSnapshot({ ...gameso(ref, 'processing', '2026-03-02T00:00:05.000Z'), user_id: 'someone-else' }), { source: 'poll' })
    expect(unchanged.decision).toBe('apply')
    expect(await outbox(ref)).toEqual(before)
    expect(await changeCount(ref)).toBe(1)
  })

  it('a change keeps the order as it was when a later write leaves the status alone', async () => {
    const ref = 'outbox-kept'
    await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'processing', '2026-03-04T00:00:01.000Z')), { source: 'webhook' })
    const atChange = await readOrder(ref)
    // Still pending: nothing has overwritten the order, so the change is rendered from it when read.
    const { rows: [pending] } = await database.db.pool.query<{ rendered: boolean }>(
      'SELECT order_snapshot IS NOT NULL AS rendered FROM order_changes WHERE reference = $1', [ref])
    expect(pending?.rendered).toBe(false)
    const moved = await app.orderSync.applySnapshot(gamesoOrderToSnapshot({ ...gameso(ref, 'processing', '2026-03-04T00:00:02.000Z'), user_id: 'another-player' }), { source: 'poll' })
    expect(moved.decision).toBe('apply')
    const rows = await outbox(ref)
    expect(rows.map((row) => row.event)).toEqual(['order.processing'])
    expect(gamesoProvider.presentChange(orderAtChange(rows[0]!.order_snapshot))).toEqual(atChange)
    expect(await readOrder(ref)).not.toEqual(atChange)
    const { rows: [stored] } = await database.db.pool.query<{ rendered: boolean }>(
      'SELECT order_snapshot IS NOT NULL AS rendered FROM order_changes WHERE reference = $1', [ref])
    expect(stored?.rendered).toBe(true)
  })

  it('writes the events of every order of a merged batch, once each', async () => {
    const refs = Array.from({ length: 40 }, (_unused, index) => `outbox-batch-${index}`)
    await Promise.all(refs.flatMap((ref) => [
      app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'completed', '2026-03-03T00:00:02.000Z')), { source: 'webhook' }),
      app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(ref, 'completed', '2026-03-03T00:00:02.000Z')), { source: 'poll' })
    ]))
    for (const ref of refs) {
      expect((await outbox(ref)).map((row) => [row.endpoint_id, row.event])).toEqual([
        [endpoints.defaults, 'order.completed'], [endpoints.everything, 'order.completed']
      ])
    }
  })

  it('writes an event for an order recorded before any upstream snapshot (create, track)', async () => {
    const ref = 'outbox-tracked'
    await inTransaction(database.db, async (client) => {
      await lockOrderKey(client, 'gameso', ref)
      await registerOrder(client, { provider: 'gameso', reference: ref, source: 'track', firstPollDelayMs: 60_000 })
    })
    const rows = await outbox(ref)
    expect(rows.map((row) => [row.endpoint_id, row.event, row.source])).toEqual([[endpoints.everything, 'order.pending', 'track']])
    expect(gamesoProvider.presentChange(orderAtChange(rows[0]!.order_snapshot))).toEqual(await readOrder(ref))
  })

  it('renders a MidasBuy change in OrderQuery\'s shape, as the MidasBuy read route answers', async () => {
    const id = 'outbox-midasbuy-1'
    const order = midasbuyOrderSchema.parse(midasbuyOrder({ paymentOrderId: id, status: 'Finished', updateTime: '2026-05-01T00:00:05Z', total: { currency: 'IDR', amount: '15000' } }))
    await app.orderSync.applySnapshot(midasbuyOrderToSnapshot(order), { source: 'webhook' })
    const rows = await outbox(id)
    expect(rows.map((row) => [row.endpoint_id, row.event, row.provider])).toEqual([
      [endpoints.defaults, 'order.completed', 'midasbuy'], [endpoints.everything, 'order.completed', 'midasbuy']
    ])
    const read = await app.inject({ method: 'GET', url: `/v1/midasbuy/orders/${id}`, headers: { 'x-api-key': API_KEY } })
    expect(read.statusCode).toBe(200)
    expect(midasbuyProvider.presentChange(orderAtChange(rows[0]!.order_snapshot))).toEqual(read.json())
  })

  it('a change that rolls back leaves no event behind', async () => {
    const ref = 'outbox-rolled-back'
    await expect(inTransaction(database.db, async (client) => {
      await lockOrderKey(client, 'gameso', ref)
      await registerOrder(client, { provider: 'gameso', reference: ref, source: 'create', firstPollDelayMs: 60_000 })
      throw new Error('the create fails after the placeholder')
    })).rejects.toThrow('the create fails')
    expect(await changeCount(ref)).toBe(0)
    expect(await outbox(ref)).toEqual([])
  })
})
