import { createPublicKey } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createDatabase } from '../../src/db/database.js'
import { signMidasBuyNotification } from '../../src/providers/midasbuy/midasbuy-signature.js'
import { replayInbox } from '../../src/services/inbox-replay.js'
import { midasbuyProvider, midasbuyWebhookVerifier } from '../../src/providers/midasbuy/index.js'
import { inboxReplayer, WebhookIngest } from '../../src/services/webhook-ingest.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { midasbuyKeys, midasbuyOrder, notificationBody, signedHeaders } from '../helpers/midasbuy-notifications.js'

const URL_PATH = '/webhooks/midasbuy/payment_notification'
const API_KEY = 'merchant-key-midasbuy'

function expectFailure (response: { statusCode: number, json: () => unknown }, status: number, message: RegExp) {
  expect(response.statusCode).toBe(status)
  expect(response.json()).toEqual({ processed: false, message: expect.stringMatching(message) })
}

describe('MidasBuy payment notifications', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey,
      WEBHOOK_TOLERANCE_SECONDS: '300',
      WEBHOOK_BODY_LIMIT_BYTES: '4096'
    }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  function post (body: Buffer | string, headers: Record<string, string>) {
    return app.inject({ method: 'POST', url: URL_PATH, headers, payload: body })
  }

  async function deliver (resource: Record<string, unknown>) {
    const body = notificationBody(resource)
    return post(body, signedHeaders(body))
  }

  function read (paymentOrderId: string, apiKey = API_KEY) {
    return app.inject({ method: 'GET', url: `/v1/midasbuy/orders/${encodeURIComponent(paymentOrderId)}`, headers: { 'x-api-key': apiKey } })
  }

  async function inboxRows (reference: string) {
    const { rows } = await database.db.pool.query('SELECT * FROM webhook_inbox WHERE provider = $1 AND reference = $2 ORDER BY id', ['midasbuy', reference])
    return rows
  }

  async function inboxCount (): Promise<number> {
    const { rows } = await database.db.pool.query<{ count: string }>('SELECT count(*) FROM webhook_inbox')
    return Number(rows[0]?.count)
  }

  it('applies a delivery and answers it through the read route with the amounts exactly as sent', async () => {
    const resource = midasbuyOrder({
      paymentOrderId: 'SG-EXACT-1',
      status: 'Paid',
      updateTime: '2026-05-01T00:00:05Z',
      total: { currency: 'TND', amount: '100.123' },
      items: [
        { productId: 'yen-pack', quantity: '2', price: { currency: 'JPY', amount: '100' } },
        { productId: 'dinar-pack', quantity: '1', productType: 'VIRTUAL_GOOD', price: { currency: 'TND', amount: '100.123' } },
        { productId: 'dollar-pack', quantity: '3', price: { currency: 'USD', amount: '9.99' } }
      ]
    })
    const body = notificationBody(resource)
    const headers = signedHeaders(body)
    const response = await post(body, headers)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ processed: true, message: 'applied' })

    const [row] = await inboxRows('SG-EXACT-1')
    expect(row).toMatchObject({ outcome: 'applied', event_type: 'PAYMENT.ORDER.STATUS_CHANGED', delivery_count: 1, error: null })
    expect(Buffer.compare(row.body, body)).toBe(0)
    expect(row.headers).toMatchObject({ 'txgw-timestamp': headers['txgw-timestamp'], 'txgw-nonce': headers['txgw-nonce'], 'txgw-signature': headers['txgw-signature'] })

    const read200 = await read('SG-EXACT-1')
    expect(read200.statusCode).toBe(200)
    expect(read200.json()).toEqual({
      app_id: '1450015065',
      create_time: '2026-05-01T00:00:00Z',
      update_time: '2026-05-01T00:00:05Z',
      user_id: 'player-1',
      payment_order_id: 'SG-EXACT-1',
      server_id: '1001',
      order_status: 'Paid',
      order_items: [
        { product_id: 'yen-pack', game_product_id: 'game-yen-pack', quantity: '2', product_type: 'VIRTUAL_CURRENCY', price: { currency: 'JPY', amount: '100' } },
        { product_id: 'dinar-pack', game_product_id: 'game-dinar-pack', quantity: '1', product_type: 'VIRTUAL_GOOD', price: { currency: 'TND', amount: '100.123' } },
        { product_id: 'dollar-pack', game_product_id: 'game-dollar-pack', quantity: '3', product_type: 'VIRTUAL_CURRENCY', price: { currency: 'USD', amount: '9.99' } }
      ],
      total_price: { currency: 'TND', amount: '100.123' },
      shop_region: 'US',
      payment_channel: 'CREDIT_CARD'
    })
    const { rows } = await database.db.pool.query('SELECT status, is_final, provider_order_id FROM orders WHERE provider = $1 AND reference = $2', ['midasbuy', 'SG-EXACT-1'])
    expect(rows).toEqual([{ status: 'processing', is_final: false, provider_order_id: 'SG-EXACT-1' }])
  })

  it('answers duplicate for the same bytes again and counts the redelivery', async () => {
    const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-DUP', status: 'Paid', updateTime: '2026-05-01T00:00:01Z' }))
    expect((await post(body, signedHeaders(body))).json()).toEqual({ processed: true, message: 'applied' })
    const again = await post(body, signedHeaders(body))
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ processed: true, message: 'duplicate' })
    expect(await inboxRows('SG-DUP')).toMatchObject([{ outcome: 'applied', delivery_count: 2 }])
  })

  it('merges monotonically: Paid after Finished is stale, Refunded after Finished applies', async () => {
    const finished = await deliver(midasbuyOrder({ paymentOrderId: 'SG-MERGE', status: 'Finished', updateTime: '2026-05-01T00:00:10Z' }))
    expect(finished.json()).toEqual({ processed: true, message: 'applied' })
    const latePaid = await deliver(midasbuyOrder({ paymentOrderId: 'SG-MERGE', status: 'Paid', updateTime: '2026-05-01T00:00:05Z' }))
    expect(latePaid.json()).toEqual({ processed: true, message: 'stale' })
    expect((await read('SG-MERGE')).json()).toMatchObject({ order_status: 'Finished', update_time: '2026-05-01T00:00:10Z' })

    const refunded = await deliver(midasbuyOrder({ paymentOrderId: 'SG-MERGE', status: 'Refunded', updateTime: '2026-05-01T00:00:20Z' }))
    expect(refunded.json()).toEqual({ processed: true, message: 'applied' })
    expect((await read('SG-MERGE')).json()).toMatchObject({ order_status: 'Refunded', update_time: '2026-05-01T00:00:20Z' })
    const { rows } = await database.db.pool.query(
      `SELECT h.to_provider_status FROM order_status_history h JOIN orders o ON o.id = h.order_id
        WHERE o.provider = 'midasbuy' AND o.reference = 'SG-MERGE' ORDER BY h.id`)
    expect(rows.map((row) => row.to_provider_status)).toEqual(['Finished', 'Refunded'])
    expect((await inboxRows('SG-MERGE')).map((row) => row.outcome)).toEqual(['applied', 'stale', 'applied'])
  })

  it('on an equal update_time the higher status wins: Refunded over Finished', async () => {
    await deliver(midasbuyOrder({ paymentOrderId: 'SG-TIE', status: 'Finished', updateTime: '2026-05-01T00:00:10Z' }))
    expect((await deliver(midasbuyOrder({ paymentOrderId: 'SG-TIE', status: 'Refunded', updateTime: '2026-05-01T00:00:10Z' }))).json())
      .toEqual({ processed: true, message: 'applied' })
    expect((await deliver(midasbuyOrder({ paymentOrderId: 'SG-TIE', status: 'Paid', updateTime: '2026-05-01T00:00:10Z' }))).json())
      .toEqual({ processed: true, message: 'stale' })
  })

  it('counts a MidasBuy order nobody polls here in its own provider\'s reconcile backlog and lag', async () => {
    expect((await deliver(midasbuyOrder({ paymentOrderId: 'SG-UNPOLLED-1', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))).statusCode).toBe(200)
    await database.db.pool.query("UPDATE orders SET next_poll_at = now() - interval '1 hour' WHERE provider = 'midasbuy' AND reference = 'SG-UNPOLLED-1'")
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^order_mirror_reconcile_backlog\{provider="midasbuy",state="due"\} [1-9]/m)
    expect(metrics).toMatch(/^order_mirror_reconcile_backlog\{provider="gameso",state="due"\} 0$/m)
    expect(metrics).toMatch(/^order_mirror_reconcile_lag_seconds\{provider="midasbuy"\} (3[6-9]\d\d|[4-9]\d{3}|\d{5,})(\.\d+)?$/m)
    expect(metrics).toMatch(/^order_mirror_reconcile_lag_seconds\{provider="gameso"\} 0$/m)
    expect(metrics).toMatch(/^order_mirror_orders\{provider="midasbuy",status="processing"\} [1-9]/m)
  })

  it('stores a notification that is not a payment order as ignored', async () => {
    const body = notificationBody({ app_id: 'a', promotion_order_id: 'PROMO-1', payment_order_id: 'SG-PROMO', promotion_items: [] }, { event_type: 'PROMOTION.ORDER' })
    const response = await post(body, signedHeaders(body))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ processed: true, message: 'ignored' })
    expect(await inboxRows('SG-PROMO')).toMatchObject([{ outcome: 'ignored', error: 'event PROMOTION.ORDER is not a payment order notification' }])
    expect((await read('SG-PROMO')).statusCode).toBe(404)
  })

  describe('refuses, storing nothing', () => {
    const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-REFUSED', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))

    it.each([
      ['no signature', { 'txgw-signature': undefined }, /^Missing txgw-signature header$/],
      ['a signature that is not base64', { 'txgw-signature': '%%%' }, /^Invalid txgw-signature header$/],
      ['a signature by another key', { 'txgw-signature': Buffer.alloc(256, 1).toString('base64') }, /^Invalid txgw-signature header$/],
      ['no Txgw-Timestamp', { 'txgw-timestamp': undefined }, /^Missing txgw-timestamp header$/],
      ['no Txgw-Nonce', { 'txgw-nonce': undefined }, /^Missing txgw-nonce header$/]
    ])('401 for %s', async (_name, change, message) => {
      const before = await inboxCount()
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries({ ...signedHeaders(body), ...change })) if (value !== undefined) headers[name] = value
      expectFailure(await post(body, headers), 401, message)
      expect(await inboxCount()).toBe(before)
    })

    it('401 for a tampered body', async () => {
      const headers = signedHeaders(body)
      const tampered = Buffer.from(body.toString('utf8').replace('"Paid"', '"Finished"'))
      expectFailure(await post(tampered, headers), 401, /^Invalid txgw-signature header$/)
    })

    it('401 for a timestamp outside WEBHOOK_TOLERANCE_SECONDS, or not in Unix seconds', async () => {
      // The exact edges are checked on a pinned clock below; here only that the route refuses.
      expectFailure(await post(body, signedHeaders(body, { at: Math.floor(Date.now() / 1000) - 3600 })), 401, /^txgw-timestamp is \d+ s from now; at most 300 s is accepted$/)
      const headers = signedHeaders(body)
      const nonce = headers['txgw-nonce'] as string
      const iso = new Date().toISOString()
      const isoHeaders = { ...headers, 'txgw-timestamp': iso, 'txgw-signature': signMidasBuyNotification(midasbuyKeys.privateKey, iso, nonce, body) }
      expectFailure(await post(body, isoHeaders), 401, /^txgw-timestamp must be Unix seconds$/)
    })

    it('400 for a signed body that is not JSON', async () => {
      const notJson = Buffer.from('{"id":')
      expectFailure(await post(notJson, signedHeaders(notJson)), 400, /^Body is not valid JSON$/)
    })

    it('415 for another content type', async () => {
      expectFailure(await post(body, { ...signedHeaders(body), 'content-type': 'text/plain' }), 415, /^Unsupported Media Type/)
    })

    it('413 for a body over WEBHOOK_BODY_LIMIT_BYTES', async () => {
      const big = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-BIG', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }), { summary: 'x'.repeat(5000) })
      expectFailure(await post(big, signedHeaders(big)), 413, /.+/)
      expect(await inboxRows('SG-BIG')).toEqual([])
    })
  })

  describe('signed but invalid payloads: 400 naming the fields, kept in the inbox as invalid', () => {
    it.each([
      ['unknown order_status', { order_status: 'Cancelled' }, /^body\.resource\.order_status: /],
      ['UNDEFINED order_status', { order_status: 'UNDEFINED' }, /^body\.resource\.order_status: /],
      ['amount as a number and no user', { total_price: { currency: 'USD', amount: 9.99 }, user_id: '' }, /body\.resource\.user_id: .*; body\.resource\.total_price\.amount: |body\.resource\.total_price\.amount: .*; body\.resource\.user_id: /]
    ])('%s', async (name, change, message) => {
      const reference = `SG-INVALID-${name.replaceAll(' ', '-')}`
      const response = await deliver({ ...midasbuyOrder({ paymentOrderId: reference, status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }), ...change })
      expectFailure(response, 400, message)
      expect(await inboxRows(reference)).toMatchObject([{ outcome: 'invalid', error: (response.json() as { message: string }).message }])
      expect((await read(reference)).statusCode).toBe(404)
    })

    it('an envelope without id', async () => {
      const body = Buffer.from(JSON.stringify({ resource: midasbuyOrder({ paymentOrderId: 'SG-NO-ID', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }) }))
      expectFailure(await post(body, signedHeaders(body)), 400, /^body\.id: /)
      expect(await inboxRows('SG-NO-ID')).toMatchObject([{ outcome: 'invalid' }])
    })
  })

  it('replays a stored row through the live path, for npm run inbox:replay', async () => {
    const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-REPLAY', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))
    await database.db.pool.query(`INSERT INTO webhook_inbox (provider, body, body_sha256, headers, reference, outcome, error)
      VALUES ('midasbuy', $1, sha256($1), '{}', 'SG-REPLAY', 'invalid', 'refused by an older parser')`, [body])
    const replayer = inboxReplayer(new OrderSync(database.db, 60_000), midasbuyProvider)
    const summary = await replayInbox(database.db, { midasbuy: replayer }, { outcome: 'invalid', provider: 'midasbuy' }, pino({ level: 'silent' }))
    expect(summary.outcomes.applied).toBe(1)
    expect(await inboxRows('SG-REPLAY')).toMatchObject([{ outcome: 'applied', error: null, replay_count: 1 }])
    expect((await read('SG-REPLAY')).json()).toMatchObject({ payment_order_id: 'SG-REPLAY', order_status: 'Paid' })
  })

  describe('GET /v1/midasbuy/orders/{payment_order_id}', () => {
    it('404 NOT_FOUND for an order the mirror does not have, or a GameSO order of that reference', async () => {
      await database.db.pool.query(`INSERT INTO orders (provider, reference, status, provider_status, status_rank, is_final, last_source, upstream_updated_at, reconcile_state)
        VALUES ('gameso', 'SG-GAMESO-ONLY', 'completed', 'completed', 3, true, 'webhook', now(), 'final')`)
      for (const reference of ['SG-NEVER', 'SG-GAMESO-ONLY']) {
        const response = await read(reference)
        expect(response.statusCode).toBe(404)
        expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
      }
    })

    it('401 without a valid API key', async () => {
      expect((await read('SG-EXACT-1', 'wrong-key')).statusCode).toBe(401)
    })
  })

  it('counts deliveries and signature failures under provider="midasbuy"', async () => {
    // An app of its own: its counters then hold exactly the deliveries below.
    const counted = await buildApp(testConfig(database.url, { MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey, WEBHOOK_TOLERANCE_SECONDS: '300' }), { db: database.db })
    try {
      const send = (body: Buffer, headers: Record<string, string>) => counted.inject({ method: 'POST', url: URL_PATH, headers, payload: body })
      const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-COUNTED', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))
      const { 'txgw-signature': _signature, ...unsigned } = signedHeaders(body)
      expect((await send(body, signedHeaders(body))).statusCode).toBe(200)
      expect((await send(body, unsigned)).statusCode).toBe(401)
      expect((await send(body, { ...signedHeaders(body), 'txgw-signature': Buffer.alloc(256, 1).toString('base64') })).statusCode).toBe(401)
      expect((await send(body, signedHeaders(body, { at: Math.floor(Date.now() / 1000) - 3600 }))).statusCode).toBe(401)

      const metrics = (await counted.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/order_mirror_webhooks_total\{provider="midasbuy",outcome="applied"\} 1$/m)
      expect(metrics).toMatch(/order_mirror_webhooks_total\{provider="midasbuy",outcome="rejected"\} 3$/m)
      expect(metrics).toMatch(/order_mirror_webhook_signature_failures_total\{provider="midasbuy",reason="missing"\} 1$/m)
      expect(metrics).toMatch(/order_mirror_webhook_signature_failures_total\{provider="midasbuy",reason="mismatch"\} 1$/m)
      expect(metrics).toMatch(/order_mirror_webhook_signature_failures_total\{provider="midasbuy",reason="timestamp"\} 1$/m)
    } finally {
      await counted.close()
    }
  })

  it('500 processed:false when no platform key is configured, so MidasBuy retries', async () => {
    const unconfigured = await buildApp(testConfig(database.url), { db: database.db })
    try {
      const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-NO-KEY', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))
      const response = await unconfigured.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expectFailure(response, 500, /^No MidasBuy platform public key is configured; retry later$/)
      expect(await inboxRows('SG-NO-KEY')).toEqual([])
    } finally {
      await unconfigured.close()
    }
  })

  it('500 processed:false, acknowledging nothing, when the database cannot be reached', async () => {
    const url = 'postgresql://postgres@127.0.0.1:1/none'
    const db = createDatabase(url, { connectionTimeoutMs: 500 })
    const down = await buildApp(testConfig(url, { MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey }), { db })
    try {
      const body = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-DB-DOWN', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))
      const response = await down.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expectFailure(response, 500, /^Database unavailable, retry later$/)
      const metrics = (await down.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/order_mirror_webhooks_total\{provider="midasbuy",outcome="unavailable"\} 1/)
    } finally {
      await down.close()
      await db.close()
    }
  })
})

describe('the MidasBuy timestamp tolerance, on a pinned clock', () => {
  it('accepts Txgw-Timestamp exactly at the tolerance, refuses one second more either way, and 0 turns the check off', async () => {
    const database = await createTestDatabase({ poolSize: 2 })
    const nowSeconds = Date.parse('2026-11-27T12:00:00.000Z') / 1000
    const ingestWith = (toleranceSeconds: number) => new WebhookIngest(new OrderSync(database.db, 60_000), midasbuyProvider, {
      verifier: midasbuyWebhookVerifier({ publicKey: createPublicKey(midasbuyKeys.publicKey), signatureHeader: 'txgw-signature' }), toleranceSeconds, now: () => nowSeconds * 1000
    })
    const delivery = (paymentOrderId: string, offsetSeconds: number) => {
      const body = notificationBody(midasbuyOrder({ paymentOrderId, status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }))
      return [body, signedHeaders(body, { at: nowSeconds + offsetSeconds })] as const
    }
    try {
      const ingest = ingestWith(300)
      expect(await ingest.ingest(...delivery('SG-EDGE-PAST', -300))).toMatchObject({ outcome: 'applied' })
      expect(await ingest.ingest(...delivery('SG-EDGE-FUTURE', 300))).toMatchObject({ outcome: 'applied' })
      await expect(ingest.ingest(...delivery('SG-TOO-OLD', -301))).rejects.toMatchObject({
        statusCode: 401, code: 'TIMESTAMP_OUT_OF_TOLERANCE', reason: 'timestamp', message: 'txgw-timestamp is 301 s from now; at most 300 s is accepted'
      })
      await expect(ingest.ingest(...delivery('SG-TOO-NEW', 301))).rejects.toMatchObject({ statusCode: 401, code: 'TIMESTAMP_OUT_OF_TOLERANCE' })
      expect(await ingestWith(0).ingest(...delivery('SG-ANY-TIME', -10 * 365 * 86_400))).toMatchObject({ outcome: 'applied' })
      const { rows } = await database.db.pool.query('SELECT reference FROM orders ORDER BY reference')
      expect(rows.map((row) => row.reference)).toEqual(['SG-ANY-TIME', 'SG-EDGE-FUTURE', 'SG-EDGE-PAST'])
    } finally {
      await database.drop()
    }
  })
})
