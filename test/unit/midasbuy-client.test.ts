import { createPublicKey, createPrivateKey, generateKeyPairSync } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import fc from 'fast-check'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.js'
import { createMetrics } from '../../src/metrics/metrics.js'
import { MidasBuyClient, createMidasBuyClient, type MidasBuyClientOptions } from '../../src/providers/midasbuy/midasbuy-client.js'
import { DEFAULT_REQUEST_SIGNING, verifyMidasBuyRequest, type RequestSigningOptions } from '../../src/providers/midasbuy/midasbuy-request-signature.js'
import {
  UpstreamHttpError, UpstreamInvalidResponseError, UpstreamRateLimitedError, UpstreamTimeoutError, UpstreamUnauthorizedError
} from '../../src/upstream/upstream-errors.js'
import { systemClock } from '../../src/upstream/clock.js'
import { ManualClock } from '../helpers/manual-clock.js'
import { until } from '../helpers/until.js'
import { midasbuyKeys, midasbuyOrder } from '../helpers/midasbuy-notifications.js'

const APP_ID = '1450015065'
const SERIAL = '5157F2A8C6C26C3F2A1C5C31D67F1F7E5BEF6D04'
const merchantKey = createPrivateKey(midasbuyKeys.privateKey)
const merchantPublicKey = createPublicKey(midasbuyKeys.publicKey)
const someoneElsesKey = createPrivateKey(generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
}).privateKey)

const ORDER_ID = 'SG2024113000900'
const paidOrder = (id = ORDER_ID) => midasbuyOrder({
  paymentOrderId: id,
  status: 'Paid',
  updateTime: '2026-05-01T00:00:01Z',
  items: [{ productId: 'dinar-pack', quantity: '1', productType: 'VIRTUAL_GOOD', price: { currency: 'TND', amount: '100.123' } }],
  total: { currency: 'TND', amount: '100.123' }
})

interface Received {
  url: string
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** What the stand-in found of the request signature. */
  signature: ReturnType<typeof verifyMidasBuyRequest>
}

type Answer = (received: Received, reply: FastifyReply) => unknown

/**
 * A stand-in MidasBuy over real HTTP: checks every request's signature with the merchant public
 * key (401 UNAUTHENTICATED when wrong, as the simulator does), then answers as the test says.
 */
class FakeMidasBuy {
  readonly received: Received[] = []
  answer: Answer = (received) => ({ ...paidOrder(JSON.parse(received.body.toString()).id), future_field: 'kept' })
  /** How the stand-in expects requests to be signed. */
  signing: RequestSigningOptions = DEFAULT_REQUEST_SIGNING
  private app: FastifyInstance | undefined
  private readonly held: Array<() => void> = []
  url = ''

  async start (prefix = ''): Promise<string> {
    const app = Fastify()
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
    app.post(`${prefix}/v2/orders`, async (request, reply) => {
      const body = request.body as Buffer
      const url = new URL(request.url, `http://${request.headers.host ?? 'localhost'}`)
      const signature = verifyMidasBuyRequest({ method: request.method, url, body, authorization: request.headers.authorization }, merchantPublicKey, this.signing)
      const received: Received = { url: request.url, headers: request.headers, body, signature }
      this.received.push(received)
      if (!signature.valid) {
        return reply.code(401).send({ name: 'UNAUTHENTICATED', message: signature.problem, debug_id: 'dbg-401' })
      }
      return this.answer(received, reply)
    })
    this.url = await app.listen({ port: 0, host: '127.0.0.1' })
    this.app = app
    return `${this.url}${prefix}`
  }

  /** Leaves the request unanswered until release(). */
  hold (reply: FastifyReply, status: number, body: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.held.push(() => resolve(reply.code(status).send(body)))
    })
  }

  release () {
    for (const answer of this.held.splice(0)) answer()
  }

  reset () {
    this.release()
    this.received.length = 0
    this.signing = DEFAULT_REQUEST_SIGNING
    this.answer = (received) => ({ ...paidOrder(JSON.parse(received.body.toString()).id), future_field: 'kept' })
  }

  async stop () {
    this.release()
    await this.app?.close()
  }
}

describe('MidasBuyClient', () => {
  const fake = new FakeMidasBuy()
  let baseUrl: string
  const clients: MidasBuyClient[] = []
  let metrics = createMetrics()

  function client (overrides: Partial<MidasBuyClientOptions> = {}) {
    const clock = new ManualClock(Date.parse('2026-05-01T00:00:00Z'))
    const created = new MidasBuyClient({
      baseUrl,
      appId: APP_ID,
      certSerialNo: SERIAL,
      merchantPrivateKey: merchantKey,
      maxRequestsPerSecond: 1000,
      maxConcurrency: 4,
      timeoutMs: 2000,
      log: pino({ level: 'silent' }),
      metrics,
      clock,
      ...overrides
    })
    clients.push(created)
    return { midasbuy: created, clock }
  }

  async function counted () {
    return (await metrics.upstreamRequestsTotal.get()).values.map((value) => [value.labels, value.value])
  }

  beforeAll(async () => { baseUrl = await fake.start() })
  afterEach(async () => {
    fake.reset()
    await Promise.all(clients.splice(0).map((created) => created.close()))
    metrics = createMetrics()
  })
  afterAll(async () => { await fake.stop() })

  it('posts {"id"} signed with the merchant key and returns the validated order, unknown enum values and extra fields kept', async () => {
    const { midasbuy, clock } = client()
    const result = await midasbuy.fetchOrder(ORDER_ID)
    expect(result).toMatchObject({ found: true, order: { payment_order_id: ORDER_ID, order_status: 'Paid', future_field: 'kept' } })
    if (result.found) expect(result.order.order_items[0]?.product_type).toBe('VIRTUAL_GOOD')
    const [received] = fake.received
    expect(received?.url).toBe('/v2/orders')
    expect(JSON.parse(received?.body.toString() ?? '')).toEqual({ id: ORDER_ID })
    expect(received?.headers['content-type']).toBe('application/json')
    expect(received?.headers.accept).toBe('application/json')
    expect(received?.headers.authorization).toMatch(/^TXGW-SHA256-RSA2048 auth_id=1450015065,auth_id_type=app_id,nonce_str=[0-9A-F]{32},timestamp=\d+,signature=[A-Za-z0-9+/]+=*,serial_no=5157F2A8/)
    expect(received?.signature).toMatchObject({ valid: true, parameters: { authId: APP_ID, serialNo: SERIAL, timestamp: String(clock.now() / 1000) } })
    expect(await counted()).toEqual([[{ provider: 'midasbuy', operation: 'order_query', status: '200' }, 1]])
  })

  it('signs the whole path when the base URL carries a prefix', async () => {
    const prefixed = new FakeMidasBuy()
    const prefixedUrl = await prefixed.start('/midasbuy')
    try {
      const { midasbuy } = client({ baseUrl: prefixedUrl })
      expect((await midasbuy.fetchOrder(ORDER_ID)).found).toBe(true)
      expect(prefixed.received[0]).toMatchObject({ url: '/midasbuy/v2/orders', signature: { valid: true } })
    } finally {
      await prefixed.stop()
    }
  })

  it('signs with the configured options: absolute URL, quoted values, another auth id parameter', async () => {
    const signing = { urlForm: 'absolute', authIdParameter: 'mch_id', authIdType: null, quoteValues: true } as const
    fake.signing = signing
    expect((await client({ signing }).midasbuy.fetchOrder(ORDER_ID)).found).toBe(true)
    expect(fake.received[0]?.headers.authorization).toMatch(/^TXGW-SHA256-RSA2048 mch_id="1450015065",nonce_str="[0-9A-F]{32}",timestamp="/)
    // Signed the default way, the same request no longer verifies.
    await expect(client().midasbuy.fetchOrder(ORDER_ID)).rejects.toBeInstanceOf(UpstreamUnauthorizedError)
  })

  it('surfaces a wrong signature as a typed 401 with MidasBuy\'s error, counts it, and backs off', async () => {
    const { midasbuy } = client({ merchantPrivateKey: someoneElsesKey })
    const error = await midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UpstreamUnauthorizedError)
    expect(error).toBeInstanceOf(UpstreamHttpError)
    expect(error).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
      sent: true,
      provider: 'midasbuy',
      operation: 'order_query',
      body: { name: 'UNAUTHENTICATED', message: 'the signature does not match the request', debug_id: 'dbg-401' }
    })
    expect((error as Error).message).toMatch(/refused the mirror's request signature or app id \(401 UNAUTHENTICATED, debug_id dbg-401\): check MIDASBUY_APP_ID/)
    expect((error as Error).message).not.toContain(midasbuyKeys.privateKey.split('\n')[1])
    expect(await counted()).toEqual([[{ provider: 'midasbuy', operation: 'order_query', status: '401' }, 1]])
    // Retrying a refused signature at full rate would only repeat it.
    expect(midasbuy.state()).toMatchObject({ pauseReason: 'failing', consecutiveFailures: 1, pausedForMs: 250 })
  })

  it('honours 429 + Retry-After: refuses interactive calls in the pause, holds background ones until it ends', async () => {
    let calls = 0
    fake.answer = (_received, reply) => ++calls === 1
      ? reply.code(429).header('retry-after', '7').send({ name: 'RATE_LIMIT_EXCEEDED', message: 'slow down', debug_id: 'dbg-429' })
      : paidOrder()
    const { midasbuy, clock } = client()
    const limited = await midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
    expect(limited).toBeInstanceOf(UpstreamRateLimitedError)
    expect(limited).toMatchObject({ retryAfterMs: 7000, sent: true, code: 'RATE_LIMIT_EXCEEDED', body: { debug_id: 'dbg-429' } })
    expect(midasbuy.state()).toMatchObject({ pauseReason: 'rate_limited', pausedForMs: 7000 })
    await expect(midasbuy.fetchOrder(ORDER_ID)).rejects.toMatchObject({ name: 'UpstreamRateLimitedError', sent: false })

    const background = midasbuy.fetchOrder(ORDER_ID, { priority: 'background' })
    await clock.advance(6999)
    expect(midasbuy.state().queued).toBe(1)
    await clock.advance(1)
    expect((await background).found).toBe(true)
    expect(fake.received).toHaveLength(2)
    // Signed when it went, not when it was queued.
    expect(fake.received[1]?.signature).toMatchObject({ parameters: { timestamp: String(clock.now() / 1000) } })
  })

  it('backs off on 5xx, doubling while MidasBuy keeps failing, and resets once it answers', async () => {
    fake.answer = (_received, reply) => reply.code(503).send({ name: 'INTERNAL_ERROR', message: 'try later', causes: [{ cause: 'maintenance', solution: 'wait' }] })
    const { midasbuy, clock } = client({ failureBackoffBaseMs: 4000, failureBackoffMaxMs: 60_000 })
    const first = await midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
    expect(first).toBeInstanceOf(UpstreamHttpError)
    expect(first).toMatchObject({ status: 503, code: 'INTERNAL_ERROR', body: { causes: [{ cause: 'maintenance' }] } })
    expect(midasbuy.state()).toMatchObject({ pauseReason: 'failing', consecutiveFailures: 1, pausedForMs: 4000 })
    // An interactive call cannot wait 4 s within its 2 s timeout: refused at once, unsent.
    await expect(midasbuy.fetchOrder(ORDER_ID)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', sent: false })

    const probe = midasbuy.fetchOrder(ORDER_ID, { priority: 'background' }).catch((caught: unknown) => caught)
    await clock.advance(4000)
    expect(await probe).toMatchObject({ status: 503 })
    expect(midasbuy.state()).toMatchObject({ consecutiveFailures: 2, pausedForMs: 8000 })

    fake.answer = () => paidOrder()
    const recovered = midasbuy.fetchOrder(ORDER_ID, { priority: 'background' })
    await clock.advance(8000)
    expect((await recovered).found).toBe(true)
    expect(midasbuy.state()).toMatchObject({ consecutiveFailures: 0, pausedForMs: 0 })
    expect(fake.received).toHaveLength(3)
  })

  it('keeps its own concurrency: never more OrderQuery requests in flight than configured', async () => {
    fake.answer = (received, reply) => fake.hold(reply, 200, paidOrder(JSON.parse(received.body.toString()).id))
    const { midasbuy, clock } = client({ maxConcurrency: 2 })
    const calls = ['SG-1', 'SG-2', 'SG-3', 'SG-4'].map((id) => midasbuy.fetchOrder(id))
    // Past the 1 ms spacing of 1000 req/s: only the concurrency limit holds the last two back.
    await clock.advance(10)
    await until(() => fake.received.length >= 2)
    await clock.advance(10)
    expect(midasbuy.state().queued).toBe(2)
    expect(fake.received).toHaveLength(2)
    fake.release()
    await until(() => midasbuy.state().queued === 0)
    await clock.advance(10)
    await until(() => fake.received.length === 4)
    fake.release()
    expect((await Promise.all(calls)).map((result) => result.found)).toEqual([true, true, true, true])
  })

  it('keeps its own rate: at 2 req/s the third request waits for the sliding second', async () => {
    const { midasbuy, clock } = client({ maxRequestsPerSecond: 2, maxConcurrency: 10 })
    const calls = ['SG-1', 'SG-2', 'SG-3'].map((id) => midasbuy.fetchOrder(id))
    await until(() => fake.received.length === 1)
    await clock.advance(250)
    expect(midasbuy.state().queued).toBe(2)
    await clock.advance(500)
    await until(() => fake.received.length === 2)
    // Two sent within the last second: the third waits although its even spacing (1000 ms) is near.
    await clock.advance(240)
    expect(midasbuy.state().queued).toBe(1)
    await clock.advance(500)
    expect((await Promise.all(calls)).every((result) => result.found)).toBe(true)
    expect(fake.received).toHaveLength(3)
  })

  it('parses every part of MidasBuy\'s error body into the typed error: name, message, details, debug_id, causes, links', async () => {
    const body = {
      name: 'INVALID_ARGUMENT',
      message: 'invalid id',
      details: [{ '@type': 'type.apis.com/rpc.BadRequest', field_violations: [{ field: 'id' }] }],
      debug_id: 'dbg-400',
      causes: [{ cause: 'id is empty', solution: 'send the payment_order_id' }],
      links: ['https://developer.midasbuy.com/']
    }
    fake.answer = (_received, reply) => reply.code(400).send(body)
    const error = await client().midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UpstreamHttpError)
    expect(error).not.toBeInstanceOf(UpstreamUnauthorizedError)
    expect(error).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', sent: true, body })
  })

  it('times out on the injected clock and counts it', async () => {
    fake.answer = (_received, reply) => fake.hold(reply, 200, paidOrder())
    const { midasbuy, clock } = client({ timeoutMs: 500 })
    const pending = midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
    await until(() => fake.received.length === 1)
    await clock.advance(500)
    expect(await pending).toBeInstanceOf(UpstreamTimeoutError)
    expect(await counted()).toEqual([[{ provider: 'midasbuy', operation: 'order_query', status: 'timeout' }, 1]])
  })

  describe('not found', () => {
    it('reads 404 NOT_FOUND as no such order', async () => {
      fake.answer = (_received, reply) => reply.code(404).send({ name: 'NOT_FOUND', message: 'order not found' })
      expect(await client().midasbuy.fetchOrder('missing')).toEqual({ found: false })
    })

    it('does not take a 404 without MidasBuy\'s error body, or with another name, for a missing order', async () => {
      const { midasbuy } = client({ clock: systemClock })
      fake.answer = (_received, reply) => reply.code(404).type('text/html').send('<h1>Not Found</h1>')
      await expect(midasbuy.fetchOrder('missing')).rejects.toMatchObject({ name: 'UpstreamHttpError', status: 404, body: null, code: null })
      fake.answer = (_received, reply) => reply.code(404).send({ name: 'APP_NOT_FOUND' })
      await expect(midasbuy.fetchOrder('missing')).rejects.toMatchObject({ name: 'UpstreamHttpError', status: 404, code: 'APP_NOT_FOUND' })
    })

    it('follows the configured not-found answers', async () => {
      fake.answer = (_received, reply) => reply.code(400).send({ name: 'ORDER_NOT_EXIST' })
      const { midasbuy } = client({ notFoundAnswers: [{ status: 404, name: 'NOT_FOUND' }, { status: 400, name: 'ORDER_NOT_EXIST' }] })
      expect(await midasbuy.fetchOrder('missing')).toEqual({ found: false })
    })
  })

  describe('answers it refuses', () => {
    it.each([
      ['not JSON', 'oops', /not JSON/],
      ['an order_status outside the enum', JSON.stringify({ ...paidOrder(), order_status: 'UNDEFINED' }), /order_status/],
      ['an amount as a number', JSON.stringify({ ...paidOrder(), total_price: { currency: 'USD', amount: 9.99 } }), /total_price\.amount/],
      ['another order than the one asked for', JSON.stringify(paidOrder('SG-someone-else')), /payment_order_id "SG-someone-else" does not match/],
      ['a NUL PostgreSQL cannot store', JSON.stringify({ ...paidOrder(), user_id: 'player\u0000' }), /user_id/]
    ])('a 200 carrying %s', async (_what, body, problem) => {
      fake.answer = (_received, reply) => reply.code(200).type('application/json').send(body)
      const error = await client().midasbuy.fetchOrder(ORDER_ID).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamInvalidResponseError)
      expect((error as UpstreamInvalidResponseError).problem).toMatch(problem)
    })

    it('whatever JSON comes back, the result is the order asked for or a typed error', async () => {
      // On the real clock with 1 ms failure pauses: the outcome of each answer does not depend on time.
      const { midasbuy } = client({ clock: systemClock, failureBackoffBaseMs: 1, failureBackoffMaxMs: 1 })
      const statuses = fc.constantFrom(200, 400, 401, 404, 409, 500)
      await fc.assert(fc.asyncProperty(statuses, fc.jsonValue(), async (status, body) => {
        fake.answer = (_received, reply) => reply.code(status).type('application/json').send(JSON.stringify(body))
        const outcome = await midasbuy.fetchOrder(ORDER_ID, { priority: 'background' }).then((result) => result, (caught: unknown) => caught)
        if (outcome instanceof UpstreamHttpError) expect(outcome.status).toBe(status)
        else if (outcome instanceof UpstreamInvalidResponseError) expect(status).toBe(200)
        else expect(outcome).toEqual(status === 404 ? { found: false } : { found: true, order: expect.objectContaining({ payment_order_id: ORDER_ID }) })
      }), { numRuns: 60, seed: 20261201 })
    })
  })

  it('is created from the configuration only when app id, private key and certificate serial are set', async () => {
    const log = pino({ level: 'silent' })
    expect(createMidasBuyClient(parseConfig({}).midasbuy, { log })).toBeNull()
    const { midasbuy: config } = parseConfig({
      MIDASBUY_BASE_URL: baseUrl,
      MIDASBUY_APP_ID: APP_ID,
      MIDASBUY_MERCHANT_PRIVATE_KEY: midasbuyKeys.privateKey.replaceAll('\n', '\\n'),
      MIDASBUY_CERT_SERIAL_NO: SERIAL
    })
    const created = createMidasBuyClient(config, { log })
    expect(created).toBeInstanceOf(MidasBuyClient)
    clients.push(created as MidasBuyClient)
    // The configured client signs with the key from the environment: the stand-in accepts it.
    expect((await created?.fetchOrder(ORDER_ID))?.found).toBe(true)
    expect(fake.received[0]?.signature.valid).toBe(true)
  })
})
