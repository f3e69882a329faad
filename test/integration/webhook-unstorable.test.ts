import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { replayInbox } from '../../src/services/inbox-replay.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { gamesoProvider, gamesoWebhookVerifier } from '../../src/providers/gameso/index.js'
import { WebhookIngest } from '../../src/services/webhook-ingest.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders as gamesoHeaders, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { midasbuyKeys, midasbuyOrder, signedHeaders as midasbuyHeaders } from '../helpers/midasbuy-notifications.js'

// Verified deliveries whose content PostgreSQL cannot hold in text or jsonb: each is stored as its
// raw bytes, `invalid`, with the field named, and answered 400 — for both providers alike.

const DEEP = `${'['.repeat(5000)}${']'.repeat(5000)}`

/** JSON text with a placeholder string replaced by raw JSON text (deep nesting cannot go through JSON.stringify). */
/** Distinct references and ids, the same in every run (the file has its own database). */
let issued = 0
function nextId (): string {
  return String(++issued)
}

function withRaw (value: unknown, raw: string): Buffer {
  return Buffer.from(JSON.stringify(value).replace('"@RAW@"', raw))
}

describe('verified deliveries PostgreSQL cannot store', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey
    }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  async function inboxRowOf (provider: string, body: Buffer) {
    const { rows } = await database.db.pool.query(
      'SELECT * FROM webhook_inbox WHERE provider = $1 AND body_sha256 = sha256($2)', [provider, body])
    return rows[0]
  }

  async function orderCount (reference: string): Promise<number> {
    const { rows } = await database.db.pool.query<{ count: string }>('SELECT count(*) FROM orders WHERE reference = $1', [reference])
    return Number(rows[0]?.count)
  }

  function gamesoEnvelope (data: unknown, event = 'order.completed') {
    return { event, timestamp: Math.floor(Date.now() / 1000), data }
  }

  function postGameSo (body: Buffer) {
    return app.inject({ method: 'POST', url: '/webhooks/gameso', headers: gamesoHeaders(body), payload: body })
  }

  function postMidasBuy (body: Buffer) {
    return app.inject({ method: 'POST', url: '/webhooks/midasbuy/payment_notification', headers: midasbuyHeaders(body), payload: body })
  }

  const gamesoCases: Array<[string, (reference: string) => Buffer, string]> = [
    ['NUL in user_id', (ref) => Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder(ref, 'completed', new Date(), { overrides: { user_id: 'a\u0000b' } })))), 'body.data.user_id: contains a NUL character (U+0000)'],
    ['NUL in an item sku', (ref) => {
      const order = gamesoOrder(ref, 'completed', new Date())
      return Buffer.from(JSON.stringify(gamesoEnvelope({ ...order, items: [{ ...order.items[0], sku: 'S\u0000' }] })))
    }, 'body.data.items[0].sku: contains a NUL character (U+0000)'],
    ['NUL in failure_message', (ref) => Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder(ref, 'failed', new Date(), { overrides: { failure_message: 'x\u0000' } })))), 'body.data.failure_message: contains a NUL'],
    ['NUL in created_by.name', (ref) => Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder(ref, 'completed', new Date(), { overrides: { created_by: { id: 0, name: '\u0000' } } })))), 'body.data.created_by.name: contains a NUL'],
    ['a lone surrogate', (ref) => Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder(ref, 'completed', new Date(), { overrides: { user_id: '\ud800x' } })))), 'body.data.user_id: contains an unpaired UTF-16 surrogate (U+D800)'],
    ['a NUL in a key', (ref) => Buffer.from(JSON.stringify(gamesoEnvelope({ ...gamesoOrder(ref, 'completed', new Date()), 'k\u0000': 1 }))), 'body.data["k\\u0000"]: has a key that contains a NUL'],
    ['deep nesting in an extra field', (ref) => withRaw(gamesoEnvelope({ ...gamesoOrder(ref, 'completed', new Date()), extra: '@RAW@' }), DEEP), 'body.data.extra'],
    ['deep nesting inside created_by', (ref) => withRaw(gamesoEnvelope(gamesoOrder(ref, 'completed', new Date(), { overrides: { created_by: { id: 0, name: 'API', more: '@RAW@' } as never } })), DEEP), 'body.data.created_by.more'],
    ['bytes that are not UTF-8', (ref) => Buffer.concat([Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder(ref, 'completed', new Date()))).slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')]), 'body: is not valid UTF-8']
  ]

  it.each(gamesoCases)('GameSO, %s: stored raw as invalid, 400 naming the field, no order', async (_name, build, reason) => {
    const reference = `unstorable-${nextId()}`
    const body = build(reference)
    const response = await postGameSo(body)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message: expect.stringContaining(reason) })

    const row = await inboxRowOf('gameso', body)
    expect(row).toMatchObject({ outcome: 'invalid', error: expect.stringContaining(reason), delivery_count: 1 })
    expect(Buffer.compare(row.body, body)).toBe(0)
    expect(await orderCount(reference)).toBe(0)

    // GameSO retries what was not acknowledged: the same bytes are judged again, still 400, not a 500.
    const again = await postGameSo(body)
    expect(again.statusCode).toBe(400)
    expect((await inboxRowOf('gameso', body)).delivery_count).toBe(2)
  })

  it('GameSO: event type and reference that cannot be stored as they are are kept readable beside the raw bytes', async () => {
    const order = gamesoOrder('ref\u0000nul', 'completed', new Date())
    const body = Buffer.from(JSON.stringify(gamesoEnvelope(order, 'order.\u0000completed\ud800')))
    const response = await postGameSo(body)
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toBe('body.event: contains a NUL character (U+0000)')
    const row = await inboxRowOf('gameso', body)
    expect(row).toMatchObject({ outcome: 'invalid', event_type: 'order.\uFFFDcompleted\uFFFD', reference: 'ref\uFFFDnul' })
  })

  it('GameSO: a stored unstorable row replays to the same verdict', async () => {
    const body = Buffer.from(JSON.stringify(gamesoEnvelope(gamesoOrder('replay-nul', 'completed', new Date(), { overrides: { user_id: '\u0000' } }))))
    expect((await postGameSo(body)).statusCode).toBe(400)
    const sync = new OrderSync(database.db, 60_000)
    const ingest = new WebhookIngest(sync, gamesoProvider, { verifier: gamesoWebhookVerifier({ secrets: [WEBHOOK_SECRET], signatureHeader: 'x-gameso-signature' }), toleranceSeconds: 0 })
    const summary = await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid', provider: 'gameso' }, pino({ level: 'silent' }))
    expect(summary.outcomes.invalid).toBeGreaterThan(0)
    expect(summary.outcomes.applied).toBeUndefined()
    expect(await inboxRowOf('gameso', body)).toMatchObject({ outcome: 'invalid', replay_count: 1, error: 'body.data.user_id: contains a NUL character (U+0000)' })
  })

  const midasbuyCases: Array<[string, (id: string) => Buffer, string]> = [
    ['NUL in user_id', (id) => Buffer.from(JSON.stringify(notification({ ...midasbuyOrder({ paymentOrderId: id, status: 'Paid', updateTime: new Date().toISOString() }), user_id: 'a\u0000' }))), 'body.resource.user_id: contains a NUL character (U+0000)'],
    ['a lone surrogate in a product id', (id) => {
      const order = midasbuyOrder({ paymentOrderId: id, status: 'Paid', updateTime: new Date().toISOString(), items: [{ productId: '\udfff', quantity: '1', price: { currency: 'USD', amount: '1.00' } }] })
      return Buffer.from(JSON.stringify(notification(order)))
    }, 'body.resource.order_items[0].product_id: contains an unpaired UTF-16 surrogate (U+DFFF)'],
    ['NUL in the summary', (id) => Buffer.from(JSON.stringify({ ...notification(midasbuyOrder({ paymentOrderId: id, status: 'Paid', updateTime: new Date().toISOString() })), summary: '\u0000' })), 'body.summary: contains a NUL'],
    ['deep nesting in the resource', (id) => withRaw(notification({ ...midasbuyOrder({ paymentOrderId: id, status: 'Paid', updateTime: new Date().toISOString() }), extra: '@RAW@' }), DEEP), 'body.resource.extra']
  ]

  function notification (resource: unknown) {
    return { id: `notification-${nextId()}`, event_type: 'PAYMENT.ORDER.STATUS_CHANGED', resource }
  }

  it.each(midasbuyCases)('MidasBuy, %s: stored raw as invalid, 400 {processed: false} naming the field, no order', async (_name, build, reason) => {
    const id = `MB-${nextId()}`
    const body = build(id)
    const response = await postMidasBuy(body)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ processed: false, message: expect.stringContaining(reason) })
    const row = await inboxRowOf('midasbuy', body)
    expect(row).toMatchObject({ outcome: 'invalid', error: expect.stringContaining(reason) })
    expect(Buffer.compare(row.body, body)).toBe(0)
    expect(await orderCount(id)).toBe(0)

    const again = await postMidasBuy(body)
    expect(again.statusCode).toBe(400)
    expect((await inboxRowOf('midasbuy', body)).delivery_count).toBe(2)
  })
})
