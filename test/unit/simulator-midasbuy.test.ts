import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_REQUEST_SIGNING, signMidasBuyRequest, type RequestSigningOptions, type SigningMoment
} from '../../src/providers/midasbuy/midasbuy-request-signature.js'
import { createMidasBuySignatureVerifier } from '../../src/providers/midasbuy/midasbuy-signature.js'
import type { SimulatorOptionsInput } from '../../src/simulator/options.js'
import { buildSimulator, startSimulator, type RunningSimulator, type SimulatorDependencies } from '../../src/simulator/simulator.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// The simulated MidasBuy over real HTTP: OrderQuery behind the merchant's request signature,
// payment orders on timers, platform-signed payment notifications, faults of its own.

const APP_ID = '1450015065'
const merchant = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
/** The mirror's own verifier, fed the simulator's platform public key. */
const verifyPlatform = createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'txgw-signature')

const ORDER_KEYS = ['app_id', 'create_time', 'update_time', 'user_id', 'payment_order_id', 'server_id', 'order_status', 'order_items', 'total_price', 'shop_region', 'payment_channel']
const ITEM_KEYS = ['product_id', 'game_product_id', 'quantity', 'product_type', 'price']
const ERROR_KEYS = ['name', 'message', 'details', 'debug_id', 'causes']
const ENVELOPE_KEYS = ['id', 'create_time', 'update_time', 'event_type', 'event_version', 'resource_type', 'resource_version', 'summary', 'resource']

type MidasBuyOptions = NonNullable<SimulatorOptionsInput['midasbuy']>

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function simulator (midasbuy: MidasBuyOptions = {}, deps: SimulatorDependencies = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    seed: 11,
    midasbuy: { merchantPublicKey: merchant.publicKey, platformPrivateKey: midasbuyKeys.privateKey, autoProgress: false, refundRate: 0, ...midasbuy }
  }, {}, deps)
  cleanups.push(() => sim.close())
  return sim
}

async function receiver (respond: WebhookReceiver['respond'] = (_, res) => { res.writeHead(200).end('{"processed":true,"message":"ok"}') }): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver('/webhooks/midasbuy/payment_notification', respond)
  cleanups.push(() => started.close())
  return started
}

interface QueryOptions {
  path?: string
  /** false: no Authorization header at all. */
  sign?: boolean
  privateKey?: string | ReturnType<typeof generateKeyPairSync>['privateKey']
  appId?: string
  serialNo?: string
  signing?: RequestSigningOptions
  moment?: SigningMoment
  /** Sign these bytes but send the body. */
  signedBody?: string
  headers?: Record<string, string>
}

interface Answer { status: number, headers: Record<string, string>, raw: Buffer, json: () => Record<string, unknown> }

async function orderQuery (sim: RunningSimulator, body: string | object, options: QueryOptions = {}): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const url = `${sim.url}${options.path ?? '/v2/orders'}`
  const authorization = options.sign === false
    ? {}
    : signMidasBuyRequest(
      { method: 'POST', url, body: options.signedBody ?? text },
      { appId: options.appId ?? APP_ID, serialNo: options.serialNo ?? 'CERT-1', privateKey: options.privateKey ?? merchant.privateKey },
      options.signing ?? DEFAULT_REQUEST_SIGNING,
      options.moment ?? {}
    ).headers
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization, ...options.headers },
    body: text
  })
  const raw = Buffer.from(await response.arrayBuffer())
  return { status: response.status, headers: Object.fromEntries(response.headers), raw, json: () => JSON.parse(raw.toString('utf8')) }
}

function expectMidasBuyError (answer: Answer, status: number, name: string) {
  expect(answer.status).toBe(status)
  const body = answer.json()
  expect(Object.keys(body)).toEqual(ERROR_KEYS)
  expect(body).toMatchObject({ name, message: expect.any(String), details: expect.any(Array), debug_id: expect.stringMatching(/^[0-9a-f]{16}$/), causes: [] })
}

describe('MidasBuy simulator: OrderQuery', () => {
  it('answers a signed query with the order exactly as OrderQuery shows it, amounts at the currency\'s scale', async () => {
    const sim = await simulator()
    const control = sim.controls.midasbuy
    const [jpy, usd, tnd] = control.seedOrders([
      { payment_order_id: 'SG-JPY', currency: 'JPY', items: [{ product_id: 'gems', price: '160', quantity: 2 }] },
      { payment_order_id: 'SG-USD', currency: 'USD', items: [{ product_id: 'uc', price: '0.99', quantity: 3 }, { product_id: 'pass', price: '4.5', product_type: 'SUBSCRIPTION' }] },
      { payment_order_id: 'SG-TND', currency: 'TND', status: 'Paid', items: [{ price: '1.5', quantity: 2 }], update_time: '2026-05-01T10:00:00.000Z' }
    ])
    for (const [order, total] of [[jpy!, '320'], [usd!, '7.47'], [tnd!, '3.000']] as const) {
      const answer = await orderQuery(sim, { id: order.payment_order_id })
      expect(answer.status).toBe(200)
      const body = answer.json()
      expect(body).toEqual(order)
      expect(Object.keys(body)).toEqual(ORDER_KEYS)
      for (const item of body.order_items as Array<Record<string, unknown>>) expect(Object.keys(item)).toEqual(ITEM_KEYS)
      expect((body.total_price as { amount: string }).amount).toBe(total)
    }
    expect(usd!.order_items.map((item) => [item.quantity, item.product_type, item.price.amount])).toEqual([['3', 'VIRTUAL_CURRENCY', '0.99'], ['1', 'SUBSCRIPTION', '4.50']])
    expect(tnd).toMatchObject({ order_status: 'Paid', update_time: '2026-05-01T10:00:00Z', order_items: [{ price: { currency: 'TND', amount: '1.500' } }] })
    expect(jpy).toMatchObject({ app_id: APP_ID, user_id: 'sim-user', server_id: '1', shop_region: 'US', payment_channel: 'CREDIT_CARD', order_status: 'Finished' })
  })

  it('answers under /midasbuy/v2/orders too, the prefix the docs disagree on', async () => {
    const sim = await simulator()
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    const answer = await orderQuery(sim, { id: order!.payment_order_id }, { path: '/midasbuy/v2/orders' })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual(order)
    expect(sim.controls.midasbuy.stats().api.byRoute).toEqual({ 'POST /midasbuy/v2/orders': { 200: 1 } })
  })

  it('signs every answer, errors too, with the platform key the mirror verifies notifications with', async () => {
    const sim = await simulator()
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    for (const answer of [await orderQuery(sim, { id: order!.payment_order_id }), await orderQuery(sim, { id: 'nope' }), await orderQuery(sim, {}, { sign: false })]) {
      expect(answer.headers['txgw-serial']).toBe('5157F09EFDC096DE15EBE81A47057A7232F1B8E1')
      expect(verifyPlatform(answer.raw, answer.headers)).toMatchObject({ valid: true })
      expect(verifyPlatform(Buffer.concat([answer.raw, Buffer.from(' ')]), answer.headers)).toMatchObject({ valid: false, reason: 'mismatch' })
    }
    sim.controls.midasbuy.updateSettings({ signResponses: false })
    expect((await orderQuery(sim, { id: order!.payment_order_id })).headers).not.toHaveProperty('txgw-signature')
  })

  it('an unknown id is 404 NOT_FOUND in MidasBuy\'s error shape', async () => {
    const sim = await simulator()
    const answer = await orderQuery(sim, { id: 'SG-MISSING' })
    expectMidasBuyError(answer, 404, 'NOT_FOUND')
  })

  it.each<[string, string, Record<string, string>]>([
    ['a body that is not JSON', '{"id":', {}],
    ['a JSON array', '[{"id":"SG-1"}]', {}],
    ['no id', '{}', {}],
    ['a numeric id', '{"id":7}', {}],
    ['an empty id', '{"id":""}', {}],
    ['an id over 255 characters', JSON.stringify({ id: 'x'.repeat(256) }), {}],
    ['another content type', '{"id":"SG-1"}', { 'content-type': 'text/plain' }],
    ['an empty body', '', {}]
  ])('%s is 400 INVALID_ARGUMENT, after the signature checked out', async (_name, body, headers) => {
    const sim = await simulator()
    const answer = await orderQuery(sim, body, { headers })
    expectMidasBuyError(answer, 400, 'INVALID_ARGUMENT')
    expect(answer.json().message).toMatch(/^invalid /)
    expect(sim.controls.midasbuy.stats().signatures.verified).toBe(1)
  })

  it('answers any JSON body with 200, 400 or 404 in MidasBuy\'s shape, never a 5xx', async () => {
    const sim = await simulator()
    sim.controls.midasbuy.seedOrders([{ payment_order_id: 'SG-KNOWN' }])
    const bodies = fc.oneof(fc.json(), fc.record({ id: fc.oneof(fc.string(), fc.constant('SG-KNOWN'), fc.anything()) }).map((value) => JSON.stringify(value)))
    await fc.assert(fc.asyncProperty(bodies, async (body) => {
      const answer = await orderQuery(sim, body)
      expect([200, 400, 404]).toContain(answer.status)
      if (answer.status !== 200) expect(Object.keys(answer.json())).toEqual(ERROR_KEYS)
    }), { numRuns: 60, seed: 20261201 })
  })
})

describe('MidasBuy simulator: request signature', () => {
  const old = Math.floor(Date.parse('2026-05-01T00:00:00Z') / 1000)

  it.each<[string, QueryOptions, MidasBuyOptions, string]>([
    ['no Authorization header', { sign: false }, {}, 'missing'],
    ['another scheme', { sign: false, headers: { authorization: 'Bearer abc' } }, {}, 'malformed'],
    ['a signature by another key', { privateKey: stranger }, {}, 'mismatch'],
    ['a body changed after signing', { signedBody: '{"id":"SG-OTHER"}' }, {}, 'mismatch'],
    ['the absolute URL signed where the path is expected', { signing: { ...DEFAULT_REQUEST_SIGNING, urlForm: 'absolute' } }, {}, 'mismatch'],
    ['another app id', { appId: '999' }, {}, 'app_id'],
    ['another certificate serial than the one configured', { serialNo: 'OTHER' }, { merchantCertSerialNo: 'CERT-1' }, 'serial_no'],
    ['a timestamp ten minutes old', { moment: { timestamp: old - 600 } }, {}, 'timestamp']
  ])('refuses %s with 401 UNAUTHENTICATED and counts why', async (_name, query, options, reason) => {
    const sim = await simulator(options, { now: () => old * 1000 })
    const [order] = sim.controls.midasbuy.seedOrders([{ payment_order_id: 'SG-1' }])
    const answer = await orderQuery(sim, { id: order!.payment_order_id }, { moment: { timestamp: old }, ...query })
    expectMidasBuyError(answer, 401, 'UNAUTHENTICATED')
    expect(answer.json().message).toMatch(/^request signature refused: /)
    const { signatures, api } = sim.controls.midasbuy.stats()
    expect(signatures.verified).toBe(0)
    expect(signatures.refused).toMatchObject({ [reason]: 1 })
    expect(Object.values(signatures.refused).reduce((sum, count) => sum + count, 0)).toBe(1)
    expect(api.byStatus).toEqual({ 401: 1 })
  })

  it('accepts the same request signed as configured: absolute URL, another app id parameter, the serial required', async () => {
    const signing: RequestSigningOptions = { ...DEFAULT_REQUEST_SIGNING, urlForm: 'absolute', authIdParameter: 'merchant_id', quoteValues: true }
    const sim = await simulator({ signedUrlForm: 'absolute', authIdParameter: 'merchant_id', merchantCertSerialNo: 'CERT-1' })
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    expect((await orderQuery(sim, { id: order!.payment_order_id }, { signing })).status).toBe(200)
    expect((await orderQuery(sim, { id: order!.payment_order_id })).status).toBe(401)
    expect(sim.controls.midasbuy.stats().signatures).toMatchObject({ verified: 1, refused: { malformed: 1 } })
  })

  it('with no merchant key configured, makes a pair and hands out the private half', async () => {
    const sim = await simulator({ merchantPublicKey: null })
    const credentials = sim.controls.midasbuy.credentials()
    expect(credentials.merchant_private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    const over = await (await fetch(`${sim.url}/_control/midasbuy/credentials`)).json()
    expect(over).toEqual(credentials)
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    expect((await orderQuery(sim, { id: order!.payment_order_id }, { privateKey: credentials.merchant_private_key! })).status).toBe(200)
    expect((await orderQuery(sim, { id: order!.payment_order_id })).status).toBe(401)
  })

  it('answers any Authorization header it cannot verify with 401, never a 5xx', async () => {
    const sim = await simulator()
    const header = fc.oneof(
      fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,200}[\x21-\x7e]$/),
      fc.stringMatching(/^[\x21-\x7e]{1,200}$/).map((tail) => `TXGW-SHA256-RSA2048 ${tail}`)
    )
    await fc.assert(fc.asyncProperty(header, async (authorization) => {
      const answer = await orderQuery(sim, { id: 'SG-1' }, { sign: false, headers: { authorization } })
      expectMidasBuyError(answer, 401, 'UNAUTHENTICATED')
    }), { numRuns: 60, seed: 20261202 })
  })
})

describe('MidasBuy simulator: orders', () => {
  it('moves Created → Paid → Finished on its timers, and Refunded later for an order drawn to be refunded', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2026-05-01T00:00:00Z') })
    const sim = await buildSimulator({ midasbuy: { paidDelayMs: 1000, finishDelayMs: 2000, refundDelayMs: 5000 } }, { now: () => Date.now() })
    cleanups.push(async () => { await sim.app.close() })
    const control = sim.controls.midasbuy
    const kept = control.purchase({ refund: false })
    const refunded = control.purchase({ refund: true })
    const history = (id: string) => control.order(id)!
    expect([history(kept.payment_order_id).order_status, kept.create_time]).toEqual(['Created', '2026-05-01T00:00:00Z'])
    vi.advanceTimersByTime(999)
    expect(history(kept.payment_order_id).order_status).toBe('Created')
    vi.advanceTimersByTime(1)
    expect(history(kept.payment_order_id)).toMatchObject({ order_status: 'Paid', update_time: '2026-05-01T00:00:01Z' })
    vi.advanceTimersByTime(2000)
    expect(history(kept.payment_order_id)).toMatchObject({ order_status: 'Finished', update_time: '2026-05-01T00:00:03Z' })
    vi.advanceTimersByTime(60_000)
    expect(history(kept.payment_order_id).order_status).toBe('Finished')
    expect(history(refunded.payment_order_id)).toMatchObject({ order_status: 'Refunded', update_time: '2026-05-01T00:00:08Z', create_time: '2026-05-01T00:00:00Z' })
    expect(control.stats().orders).toEqual({ total: 2, byStatus: { Created: 0, Paid: 0, Finished: 1, Refunded: 1 } })
  })

  it('refunds the configured share, the same orders for the same seed', async () => {
    const outcomes = async () => {
      const sim = await buildSimulator({ seed: 77, midasbuy: { refundRate: 0.3, autoProgress: false } })
      cleanups.push(async () => { await sim.app.close() })
      const control = sim.controls.midasbuy
      return Array.from({ length: 40 }, () => {
        const { payment_order_id: id } = control.purchase()
        control.advance(id)
        control.advance(id)
        try {
          return [id, control.advance(id).order_status]
        } catch {
          return [id, control.order(id)!.order_status]
        }
      })
    }
    const first = await outcomes()
    expect(await outcomes()).toEqual(first)
    const refunds = first.filter(([, status]) => status === 'Refunded').length
    expect(refunds).toBeGreaterThan(0)
    expect(refunds).toBeLessThan(40)
    expect(first.every(([id]) => /^SG\d{6}[A-Z0-9]{14}$/.test(id!))).toBe(true)
  })

  it('advance and refund through the control API', async () => {
    const sim = await simulator()
    const control = (path: string) => fetch(`${sim.url}/_control/midasbuy${path}`, { method: 'POST' })
    const created = await (await fetch(`${sim.url}/_control/midasbuy/purchases`, { method: 'POST' })).json() as { payment_order_id: string, order_status: string }
    expect(created.order_status).toBe('Created')
    const id = created.payment_order_id
    expect((await control(`/orders/${id}/refund`)).status).toBe(409)
    expect(await (await control(`/orders/${id}/advance`)).json()).toMatchObject({ order_status: 'Paid' })
    expect(await (await control(`/orders/${id}/advance`)).json()).toMatchObject({ order_status: 'Finished' })
    const final = await control(`/orders/${id}/advance`)
    expect(final.status).toBe(409)
    expect(await final.json()).toMatchObject({ status: 409, code: 'ORDER_FINAL' })
    expect(await (await control(`/orders/${id}/refund`)).json()).toMatchObject({ order_status: 'Refunded' })
    expect(await (await control(`/orders/${id}/refund`)).json()).toMatchObject({ code: 'ORDER_FINAL' })
    expect((await control('/orders/SG-NONE/advance')).status).toBe(404)
    expect((await fetch(`${sim.url}/_control/midasbuy/orders/${id}`)).status).toBe(200)
    const listed = await (await fetch(`${sim.url}/_control/midasbuy/orders?status=Refunded`)).json()
    expect(listed).toMatchObject({ count: 1, orders: [{ payment_order_id: id }] })
  })

  it('seeds in batches and refuses bad seeds whole, naming the field', async () => {
    const sim = await simulator()
    const seed = (payload: unknown) => fetch(`${sim.url}/_control/midasbuy/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
    const batch = await seed({ orders: Array.from({ length: 1000 }, (_, i) => ({ payment_order_id: `SG-BULK-${i}`, status: i % 4 === 0 ? 'Paid' : 'Finished', progress: false })) })
    expect(await batch.json()).toEqual({ created: 1000 })
    expect(sim.controls.midasbuy.stats().orders.byStatus).toEqual({ Created: 0, Paid: 250, Finished: 750, Refunded: 0 })
    for (const [payload, status, message] of [
      [{ currency: 'USD', items: [{ price: '100.123' }] }, 400, 'items[0].price must be an amount of USD with at most 2 decimals'],
      [{ currency: 'JPY', items: [{ price: '1.5' }] }, 400, 'items[0].price must be an amount of JPY with at most 0 decimals'],
      [{ currency: 'usd' }, 400, 'currency must be an ISO-4217 code such as "USD"'],
      [{ status: 'UNDEFINED' }, 400, 'status must be one of Created, Paid, Finished, Refunded'],
      [{ create_time: '2026-05-02T00:00:00Z', update_time: '2026-05-01T00:00:00Z' }, 400, 'update_time must not be before create_time'],
      [{ orders: [{ payment_order_id: 'SG-A' }, { payment_order_id: 'SG-A' }] }, 409, 'payment_order_id SG-A already exists'],
      [{ orders: [{ payment_order_id: 'SG-B' }, { items: [] }] }, 400, 'orders[1].items must contain at least 1 item']
    ] as const) {
      const response = await seed(payload)
      expect(response.status).toBe(status)
      expect(await response.json()).toEqual({ status, code: expect.any(String), message })
    }
    expect(sim.controls.midasbuy.stats().orders.total).toBe(1000)
  })
})

describe('MidasBuy simulator: payment notifications', () => {
  function envelopeOf (delivery: ReceivedDelivery): Record<string, unknown> {
    return JSON.parse(delivery.raw.toString('utf8'))
  }

  it('POSTs each status change, signed with the platform key, the resource as OrderQuery showed it then', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url] })
    const control = sim.controls.midasbuy
    const order = control.purchase({ currency: 'TND', items: [{ price: '2.25' }] })
    const snapshots = [order]
    await control.webhooksIdle()
    for (const step of [() => control.advance(order.payment_order_id), () => control.advance(order.payment_order_id), () => control.refund(order.payment_order_id)]) {
      snapshots.push(step())
      await control.webhooksIdle()
    }
    expect(hook.received).toHaveLength(4)
    hook.received.forEach((delivery, index) => {
      expect(verifyPlatform(delivery.raw, delivery.headers)).toMatchObject({ valid: true })
      expect(delivery.headers).toMatchObject({ 'content-type': 'application/json', 'txgw-serial': '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' })
      const envelope = envelopeOf(delivery)
      expect(Object.keys(envelope)).toEqual(ENVELOPE_KEYS)
      expect(envelope).toMatchObject({
        id: expect.stringMatching(/^WEBHOOK\d{6}[A-Z0-9]{13}$/),
        event_type: 'PAYMENT_NOTIFICATION',
        event_version: '1.0',
        resource_type: 'RESOURCE_TYPE_PAYMENT_ORDER',
        resource_version: 'v1',
        summary: `Payment order ${order.payment_order_id} is ${snapshots[index]!.order_status}`
      })
      expect(envelope.resource).toEqual(snapshots[index])
    })
    expect(hook.received.map((delivery) => (envelopeOf(delivery).resource as { order_status: string }).order_status)).toEqual(['Created', 'Paid', 'Finished', 'Refunded'])
    expect(new Set(hook.received.map((delivery) => envelopeOf(delivery).id)).size).toBe(4)
    expect(control.stats().webhooks).toMatchObject({ generated: 4, attempted: 4, delivered: 4, byEvent: { Created: 1, Paid: 1, Finished: 1, Refunded: 1 } })
  })

  it('notifies only the statuses asked for; a seed stays silent unless send_notifications', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], notificationStatuses: ['Finished'] })
    const control = sim.controls.midasbuy
    const { payment_order_id: id } = control.purchase()
    control.advance(id)
    control.advance(id)
    control.seedOrders([{ payment_order_id: 'SG-QUIET' }, { payment_order_id: 'SG-LOUD', send_notifications: true }])
    await control.webhooksIdle()
    expect(hook.received.map((delivery) => envelopeOf(delivery).resource)).toEqual([control.order(id), control.order('SG-LOUD')])
  })

  it('retries on the schedule until the answer is 2xx with {"processed": true}, each attempt signed afresh', async () => {
    const answers: Array<[number, string]> = [[500, '{"processed":false}'], [200, '{"processed":false}'], [200, 'ok'], [200, '{"processed":true}']]
    const hook = await receiver((_, res) => {
      const [status, body] = answers[Math.min(hook.received.length, answers.length) - 1]!
      res.writeHead(status, { 'content-type': 'application/json' }).end(body)
    })
    const sim = await simulator({ webhookUrls: [hook.url], retryScheduleMs: [5, 5, 5, 5] })
    sim.controls.midasbuy.purchase()
    await sim.controls.midasbuy.webhooksIdle()
    expect(hook.received).toHaveLength(4)
    expect(new Set(hook.received.map((delivery) => delivery.raw.toString('hex'))).size).toBe(1)
    expect(new Set(hook.received.map((delivery) => delivery.headers['txgw-nonce'])).size).toBe(4)
    for (const delivery of hook.received) expect(verifyPlatform(delivery.raw, delivery.headers)).toMatchObject({ valid: true })
    expect(sim.controls.midasbuy.stats().webhooks).toMatchObject({ attempted: 4, retried: 3, delivered: 1, failed: 0 })
  })

  it('gives up after the last retry of the schedule', async () => {
    const hook = await receiver((_, res) => { res.writeHead(500).end() })
    const sim = await simulator({ webhookUrls: [hook.url], retryScheduleMs: [5, 5] })
    sim.controls.midasbuy.purchase()
    await sim.controls.midasbuy.webhooksIdle()
    expect(hook.received).toHaveLength(3)
    expect(sim.controls.midasbuy.stats().webhooks).toMatchObject({ attempted: 3, retried: 2, delivered: 0, failed: 1, pending: 0 })
  })

  it('sends a body as an array of one envelope always, or at random when asked', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], arrayBodies: 'always' })
    const order = sim.controls.midasbuy.purchase()
    await sim.controls.midasbuy.webhooksIdle()
    const body = envelopeOf(hook.received[0]!)
    expect(Array.isArray(body)).toBe(true)
    expect(body).toEqual([expect.objectContaining({ resource: order })])
    expect(verifyPlatform(hook.received[0]!.raw, hook.received[0]!.headers)).toMatchObject({ valid: true })

    sim.controls.midasbuy.updateSettings({ arrayBodies: 'random' })
    for (let i = 0; i < 30; i++) sim.controls.midasbuy.purchase()
    await sim.controls.midasbuy.webhooksIdle()
    const shapes = hook.received.slice(1).map((delivery) => Array.isArray(envelopeOf(delivery)))
    expect(shapes).toHaveLength(30)
    expect(shapes).toContain(true)
    expect(shapes).toContain(false)
  })

  it('drops, duplicates and reorders notifications like GameSO\'s webhooks', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], faults: { dropRate: 1 } })
    const control = sim.controls.midasbuy
    control.purchase()
    await control.webhooksIdle()
    expect(hook.received).toHaveLength(0)
    expect(control.stats().webhooks).toMatchObject({ generated: 1, dropped: 1, attempted: 0 })

    control.setFaults({ dropRate: 0, duplicateRate: 1 })
    control.purchase()
    await control.webhooksIdle()
    expect(hook.received).toHaveLength(4)
    expect(new Set(hook.received.map((delivery) => delivery.raw.toString('hex'))).size).toBe(1)

    control.setFaults({ duplicateRate: 0, reorder: true, reorderWindowMs: 200 })
    const { payment_order_id: id } = control.purchase()
    control.advance(id)
    await control.webhooksIdle()
    expect(hook.received.slice(4).map((delivery) => (envelopeOf(delivery).resource as { order_status: string }).order_status)).toEqual(['Paid', 'Created'])
  })
})

describe('MidasBuy simulator: API faults', () => {
  it('errorRate answers 500 or 503 in MidasBuy\'s shape, after the signature was checked', async () => {
    const sim = await simulator({ faults: { errorRate: 1 } })
    expectMidasBuyError(await orderQuery(sim, { id: 'SG-1' }, { sign: false }), 401, 'UNAUTHENTICATED')
    const statuses = new Set<number>()
    for (let i = 0; i < 20; i++) {
      const answer = await orderQuery(sim, { id: 'SG-1' })
      expectMidasBuyError(answer, answer.status, answer.status === 500 ? 'INTERNAL' : 'UNAVAILABLE')
      statuses.add(answer.status)
    }
    expect([...statuses].sort()).toEqual([500, 503])
  })

  it('rateLimitedRate answers 429 RESOURCE_EXHAUSTED with Retry-After; an outage answers 503 to everything', async () => {
    const sim = await simulator({ faults: { rateLimitedRate: 1, retryAfterSeconds: 7 } })
    const limited = await orderQuery(sim, { id: 'SG-1' })
    expectMidasBuyError(limited, 429, 'RESOURCE_EXHAUSTED')
    expect(limited.headers['retry-after']).toBe('7')
    sim.controls.midasbuy.setFaults({ downForMs: 60_000 })
    for (const answer of [await orderQuery(sim, { id: 'SG-1' }), await orderQuery(sim, { id: 'SG-1' }, { sign: false })]) {
      expectMidasBuyError(answer, 503, 'UNAVAILABLE')
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(50)
    }
  })

  it('maxRequestsPerSecond admits that many in one window and answers the rest 429 with Retry-After: 1', async () => {
    // A frozen monotonic clock puts every request in the same window, whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['performance'] })
    const sim = await simulator({ faults: { maxRequestsPerSecond: 3 } })
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await orderQuery(sim, { id: order!.payment_order_id }))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429, 429])
    expect(answers.slice(3).every((answer) => answer.headers['retry-after'] === '1')).toBe(true)
  })

  it('keeps faults per upstream: switches set for one leave the other alone', async () => {
    const sim = await simulator()
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    const post = (path: string, body: unknown) => fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const gamesoGet = () => fetch(`${sim.url}/v1/orders/none`, { headers: { 'x-api-key': sim.control.apiKey } })
    await post('/_control/faults', { errorRate: 1 })
    expect((await orderQuery(sim, { id: order!.payment_order_id })).status).toBe(200)
    expect((await gamesoGet()).status).toBeGreaterThanOrEqual(500)
    await fetch(`${sim.url}/_control/faults`, { method: 'DELETE' })
    await post('/_control/midasbuy/faults', { errorRate: 1 })
    expect((await orderQuery(sim, { id: order!.payment_order_id })).status).toBeGreaterThanOrEqual(500)
    expect((await gamesoGet()).status).toBe(404)
    expect(await (await fetch(`${sim.url}/_control/midasbuy/faults`)).json()).toMatchObject({ errorRate: 1 })
    expect(await (await fetch(`${sim.url}/_control/gameso/faults`)).json()).toMatchObject({ errorRate: 0 })
  })

  it('a stats reset zeroes the signature counters too', async () => {
    const sim = await simulator()
    await orderQuery(sim, { id: 'SG-1' }, { sign: false })
    expect(sim.controls.midasbuy.stats().signatures.refused.missing).toBe(1)
    const reset = await (await fetch(`${sim.url}/_control/midasbuy/reset`, { method: 'POST' })).json()
    expect(reset).toMatchObject({ api: { total: 0 }, signatures: { verified: 0, refused: { missing: 0 } } })
  })
})
