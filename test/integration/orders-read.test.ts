import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { OrderSnapshot } from '../../src/domain/order.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { registerOrder } from '../../src/repositories/order-commands-repository.js'
import { inTransaction } from '../../src/db/transaction.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { completedFixture, failedFixture, gamesoOrder, signedHeaders, WEBHOOK_SECRET, webhookBody } from '../helpers/gameso-webhooks.js'

const API_KEY = 'orders-read-test-key'

type Envelope = { event: string, timestamp: number, data: GameSoOrder }
const completed = JSON.parse(completedFixture.toString('utf8')) as Envelope
const failed = JSON.parse(failedFixture.toString('utf8')) as Envelope

function order (reference: string, status: GameSoOrder['status'], updatedAt: string, overrides: Partial<GameSoOrder> = {}): GameSoOrder {
  return gamesoOrderSchema.parse(gamesoOrder(reference, status, updatedAt, { overrides }))
}

describe('GET /v1/orders/:reference_id', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let sync: OrderSync

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { 'x-api-key': API_KEY, ...headers } })
  const apply = (snapshot: OrderSnapshot) => sync.applySnapshot(snapshot, { source: 'webhook' })
  const deliver = async (body: Buffer) => {
    const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body), payload: body })
    expect(response.statusCode).toBe(200)
    return response.json() as { outcome: string }
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    // The docs' payloads carry their 2026-02 timestamps: the tolerance check would refuse them.
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS: '0' }), { db: database.db })
    await app.ready()
    sync = new OrderSync(database.db, 60_000)
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it.each([
    ['order.completed', completedFixture],
    ['order.failed', failedFixture]
  ])('answers with exactly the data of the docs\' %s webhook, delivered through POST /webhooks/gameso', async (_event, bytes) => {
    expect((await deliver(bytes)).outcome).toBe('applied')
    const { data } = JSON.parse(bytes.toString('utf8')) as Envelope
    const response = await get(`/v1/orders/${data.reference_id}`)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.json()).toStrictEqual(data)
  })

  it('follows the key order of GameSO\'s get-order example, completed_at only when present', async () => {
    await apply(gamesoOrderToSnapshot(gamesoOrderSchema.parse({ ...completed.data, reference_id: 'ref-key-order-completed' })))
    await apply(gamesoOrderToSnapshot(gamesoOrderSchema.parse({ ...failed.data, reference_id: 'ref-key-order-failed' })))
    const body = (await get('/v1/orders/ref-key-order-completed')).body
    expect(body.indexOf('"order_number"')).toBe(1)
    expect(body.indexOf('"total_amount"')).toBeLessThan(body.indexOf('"source_type"'))
    expect(body.indexOf('"updated_at"')).toBeLessThan(body.indexOf('"completed_at"'))
    expect(body.indexOf('"completed_at"')).toBeLessThan(body.indexOf('"failure_code"'))
    expect((await get('/v1/orders/ref-key-order-failed')).body).not.toContain('completed_at')
  })

  it('writes baht with two decimals and items in their upstream order', async () => {
    const item = completed.data.items[0]!
    await apply(gamesoOrderToSnapshot(order('ref-money', 'processing', '2026-01-01T00:00:00.000Z', {
      subtotal_amount: '300',
      discount_amount: '0',
      total_amount: '300.5',
      items: ['Z-LAST', 'A-FIRST', 'M-MIDDLE'].map((sku) => ({ ...item, sku, total_amount: '100' }))
    })))
    const body = (await get('/v1/orders/ref-money')).json()
    expect(body).toMatchObject({ subtotal_amount: '300.00', discount_amount: '0.00', total_amount: '300.50' })
    expect(body.items.map((entry: { sku: string }) => entry.sku)).toEqual(['Z-LAST', 'A-FIRST', 'M-MIDDLE'])
    expect(body.items[0].total_amount).toBe('100.00')
  })

  it('answers an order recorded locally but not yet reported by GameSO, with nulls for what is unknown', async () => {
    await inTransaction(database.db, (client) => registerOrder(client, {
      provider: 'gameso', reference: 'ref-placeholder', source: 'create', userId: 'user_9', items: [{ sku: 'DIAMOND_100', quantity: 2 }], firstPollDelayMs: 60_000
    }))
    const response = await get('/v1/orders/ref-placeholder')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      order_number: null,
      reference_id: 'ref-placeholder',
      user_id: 'user_9',
      status: 'pending',
      total_amount: null,
      items: [{ sku: 'DIAMOND_100', quantity: 2, completed_quantity: null, total_amount: null }]
    })
    expect(Date.parse(response.json().created_at)).not.toBeNaN()
  })

  it('is 404 for a placeholder the reconciler found unknown upstream, as GameSO would answer', async () => {
    const registered = await inTransaction(database.db, (client) => registerOrder(client, {
      provider: 'gameso', reference: 'ref-phantom', source: 'create', userId: 'user_9', items: [{ sku: 'DIAMOND_100', quantity: 1 }], firstPollDelayMs: 0
    }))
    expect((await get('/v1/orders/ref-phantom')).statusCode).toBe(200)
    await database.db.pool.query("UPDATE orders SET reconcile_state = 'not_found_upstream', next_poll_at = NULL WHERE id = $1", [registered.orderId])
    const response = await get('/v1/orders/ref-phantom')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
  })

  it('is 404 NOT_FOUND, in GameSO\'s shape, for an unknown reference', async () => {
    const response = await get('/v1/orders/ref-nobody-knows')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
  })

  it('only serves GameSO orders: another provider\'s order with the same reference is not found', async () => {
    await apply({ ...gamesoOrderToSnapshot(order('ref-other-provider', 'completed', '2026-01-01T00:00:00.000Z')), provider: 'midasbuy' })
    expect((await get('/v1/orders/ref-other-provider')).statusCode).toBe(404)
  })

  it('serves references up to GameSO\'s 255 characters, and is 400 VALIDATION_ERROR naming the parameter beyond', async () => {
    const longest = `ref-${'é'.repeat(251)}`
    await apply(gamesoOrderToSnapshot(order(longest, 'processing', '2026-01-01T00:00:00.000Z', { order_number: 'ord_longest' })))
    const found = await get(`/v1/orders/${encodeURIComponent(longest)}`)
    expect(found.statusCode).toBe(200)
    expect(found.json().reference_id).toBe(longest)

    const response = await get(`/v1/orders/${'x'.repeat(256)}`)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', message: expect.stringContaining('params.reference_id') })
  })

  describe('conditional GET', () => {
    it('sends a strong ETag that is the hash of the body', async () => {
      await apply(gamesoOrderToSnapshot(order('ref-etag-strong', 'completed', '2026-01-01T00:00:01.000Z')))
      const response = await get('/v1/orders/ref-etag-strong')
      expect(response.statusCode).toBe(200)
      expect(response.headers.etag).toBe(`"${createHash('sha256').update(response.body).digest('base64url')}"`)
    })

    it('answers 304 without a body while the order is unchanged, 200 with a new ETag once it changes', async () => {
      await apply(gamesoOrderToSnapshot(order('ref-etag', 'processing', '2026-01-01T00:00:01.000Z')))
      const first = await get('/v1/orders/ref-etag')
      const etag = String(first.headers.etag)

      const unchanged = await get('/v1/orders/ref-etag', { 'if-none-match': etag })
      expect(unchanged.statusCode).toBe(304)
      expect(unchanged.body).toBe('')
      expect(unchanged.headers.etag).toBe(etag)

      expect((await get('/v1/orders/ref-etag', { 'if-none-match': `"stale", W/${etag}` })).statusCode).toBe(304)
      expect((await get('/v1/orders/ref-etag', { 'if-none-match': '"something-else"' })).statusCode).toBe(200)

      await apply(gamesoOrderToSnapshot(order('ref-etag', 'completed', '2026-01-01T00:00:02.000Z')))
      const changed = await get('/v1/orders/ref-etag', { 'if-none-match': etag })
      expect(changed.statusCode).toBe(200)
      expect(changed.json().status).toBe('completed')
      expect(changed.headers.etag).not.toBe(etag)
    })

    it('never turns an error into a 304', async () => {
      const response = await get('/v1/orders/ref-nobody-knows', { 'if-none-match': '*' })
      expect(response.statusCode).toBe(404)
      expect(response.headers.etag).toBeUndefined()
    })
  })

  describe('history', () => {
    it('lists status changes with their source and the deliveries that named the order, newest first', async () => {
      const pending = order('ref-history', 'pending', '2026-01-01T00:00:01.000Z')
      const done = order('ref-history', 'completed', '2026-01-01T00:00:03.000Z')
      expect((await deliver(webhookBody(pending, { timestamp: 1 }))).outcome).toBe('applied')
      await sync.applySnapshot(gamesoOrderToSnapshot(done), { source: 'poll' })
      // The same order state redelivered late, in another envelope: stored, but stale.
      expect((await deliver(webhookBody(pending, { timestamp: 2 }))).outcome).toBe('stale')

      const response = await get('/v1/orders/ref-history/history')
      expect(response.statusCode).toBe(200)
      const body = response.json()
      expect(body).toMatchObject({ provider: 'gameso', reference_id: 'ref-history' })
      expect(body.status_changes.map((change: { from: string | null, to: string, source: string }) => [change.from, change.to, change.source]))
        .toEqual([['pending', 'completed', 'poll'], [null, 'pending', 'webhook']])
      expect(body.status_changes[0].upstream_updated_at).toBe('2026-01-01T00:00:03.000Z')
      expect(body.status_changes[1].inbox_id).toBe(body.inbox[1].id)
      expect(body.inbox.map((entry: { outcome: string }) => entry.outcome)).toEqual(['stale', 'applied'])
      expect(body.inbox[0]).toMatchObject({ event_type: 'order.pending', delivery_count: 1, error: null })
      expect(Date.parse(body.inbox[0].received_at)).toBeGreaterThanOrEqual(Date.parse(body.inbox[1].received_at))
    })

    it('is 404 for an unknown order and 400 naming the field for an unknown provider', async () => {
      expect((await get('/v1/orders/ref-nobody-knows/history')).json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
      const response = await get('/v1/orders/ref-history/history?provider=acme')
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('query.provider') })
    })

    it('reads another provider\'s order by its own reference', async () => {
      await apply({ ...gamesoOrderToSnapshot(order('ref-midasbuy-history', 'completed', '2026-01-01T00:00:00.000Z')), provider: 'midasbuy' })
      const response = await get('/v1/orders/ref-midasbuy-history/history?provider=midasbuy')
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ provider: 'midasbuy', status_changes: [{ from: null, to: 'completed' }], inbox: [] })
    })
  })
})
