import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { targetPolicy } from '../../src/domain/outbound-target.js'
import { createMetrics } from '../../src/metrics/metrics.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { providers } from '../../src/providers/index.js'
import { signedDeliveryHeaders } from '../../src/services/merchant-webhook-signature.js'
import { MerchantWebhookWorker } from '../../src/services/merchant-webhook-worker.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { ManualClock } from '../helpers/manual-clock.js'
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const API_KEY = 'delivery-test-key'
const SECRET = 'merchant-secret-ü-0123456789'
const SIGNATURE_HEADER = 'x-gameso-signature'
const completed = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

function gameso (reference: string, status: GameSoOrder['status'], second: number): GameSoOrder {
  return gamesoOrderSchema.parse({ ...completed, reference_id: reference, status, updated_at: `2026-04-01T00:00:${String(second).padStart(2, '0')}.000Z` })
}

interface Envelope { event: string, timestamp: number, data: { reference_id: string, status: string } }
const envelope = (delivery: ReceivedDelivery): Envelope => JSON.parse(delivery.raw.toString('utf8')) as Envelope

/** Both signatures, checked as a receiver would: GameSO's HMAC, and the standardwebhooks package's default form. */
function expectSigned (delivery: ReceivedDelivery, secret = SECRET): void {
  const expected = `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(delivery.raw).digest('hex')}`
  expect(delivery.headers[SIGNATURE_HEADER]).toBe(expected)
  const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(delivery.headers[name])]))
  expect(() => new Webhook(`whsec_${Buffer.from(secret, 'utf8').toString('base64')}`).verify(delivery.raw, headers)).not.toThrow()
  expect(Number(delivery.headers['webhook-timestamp'])).toBe(envelope(delivery).timestamp)
}

describe('the merchant webhook worker against a real receiver', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let receiver: WebhookReceiver
  let clock: ManualClock
  let answers: Array<(res: import('node:http').ServerResponse) => void>

  function worker (options: { timeoutMs?: number, allowed?: string[] } = {}): MerchantWebhookWorker {
    return new MerchantWebhookWorker({ concurrency: 4, timeoutMs: options.timeoutMs ?? 5000, pollIntervalMs: 1000, maxBackoffSeconds: 3600 }, {
      db: database.db,
      providers,
      policy: targetPolicy(options.allowed ?? []),
      sign: (input) => signedDeliveryHeaders({ ...input, signatureHeader: SIGNATURE_HEADER }),
      metrics: createMetrics(),
      log: app.log,
      clock
    })
  }

  async function register (body: Record<string, unknown>): Promise<string> {
    const response = await app.inject({ method: 'POST', url: '/v1/merchant-webhooks', headers: { 'x-api-key': API_KEY }, payload: { url: receiver.url, secret: SECRET, events: ['*'], ...body } })
    expect(response.statusCode).toBe(201)
    return String(response.json().id)
  }

  async function deliveries (endpoint: string): Promise<Array<Record<string, unknown>>> {
    const response = await app.inject({ method: 'GET', url: `/v1/merchant-webhooks/${endpoint}/deliveries`, headers: { 'x-api-key': API_KEY } })
    expect(response.statusCode).toBe(200)
    return response.json()
  }

  /**
   * The worker's clock stands still unless moved; a change is due from the moment the database
   * wrote it. So after each change the clock is brought up to the present (if it is behind), and
   * from there only the test moves it.
   */
  async function apply (reference: string, status: GameSoOrder['status'], second: number): Promise<void> {
    await app.orderSync.applySnapshot(gamesoOrderToSnapshot(gameso(reference, status, second)), { source: 'webhook' })
    const behind = Date.now() + 1 - clock.now()
    if (behind > 0) await clock.advance(behind)
  }

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, MERCHANT_WEBHOOK_DELIVERY_ENABLED: 'false' }), { db: database.db })
    await app.ready()
    receiver = await startWebhookReceiver('/hooks', (_delivery, res) => {
      const answer = answers.shift()
      if (answer) answer(res)
      else res.writeHead(200).end('ok')
    })
  })
  afterEach(async () => {
    answers = []
    receiver.received.length = 0
    // Each test starts with no endpoint: outbox rows are written only for endpoints that exist.
    await database.db.pool.query('DELETE FROM merchant_webhook_endpoints')
  })
  afterAll(async () => {
    await receiver.close()
    await app.close()
    await database.drop()
  })

  beforeEach(() => {
    answers = []
    // Each test's own clock, starting at the present: signatures it checks carry a current timestamp.
    clock = new ManualClock(Date.now())
  })

  it('delivers each status change once, signed both ways, with data equal to the mirror\'s GET at that change', async () => {
    const endpoint = await register({})
    const ref = 'deliver-once'
    await apply(ref, 'processing', 1)
    const processingRead = (await app.inject({ method: 'GET', url: `/v1/orders/${ref}`, headers: { 'x-api-key': API_KEY } })).json()
    await apply(ref, 'completed', 2)
    const completedRead = (await app.inject({ method: 'GET', url: `/v1/orders/${ref}`, headers: { 'x-api-key': API_KEY } })).json()
    const delivering = worker()
    while (await delivering.tick() > 0);
    expect(receiver.received.map((delivery) => envelope(delivery).event)).toEqual(['order.processing', 'order.completed'])
    receiver.received.forEach((delivery) => expectSigned(delivery))
    expect(receiver.received.map((delivery) => envelope(delivery).data)).toEqual([processingRead, completedRead])
    expect(receiver.received[0]?.headers['content-type']).toBe('application/json')
    const listed = await deliveries(endpoint)
    expect(listed.map((row) => [row.event, row.status, row.attempts, row.last_status_code])).toEqual([
      ['order.completed', 'delivered', 1, 200], ['order.processing', 'delivered', 1, 200]
    ])
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(2)
  })

  it('keeps an order\'s events in order: a newer one waits while an older one is retried', async () => {
    const endpoint = await register({ retry_delay: 10 })
    const ref = 'deliver-in-order'
    await apply(ref, 'pending', 1)
    await apply(ref, 'processing', 2)
    await apply(ref, 'completed', 3)
    answers = [(res) => res.writeHead(500).end()]
    const delivering = worker()
    expect(await delivering.tick()).toBe(1)
    // The first (pending) failed: neither processing nor completed may overtake it.
    expect(await delivering.tick()).toBe(0)
    await clock.advance(10_000)
    while (await delivering.tick() > 0);
    const events = receiver.received.map((delivery) => envelope(delivery).event)
    expect(events).toEqual(['order.pending', 'order.pending', 'order.processing', 'order.completed'])
    expect(receiver.received[0]?.headers['webhook-id']).toBe(receiver.received[1]?.headers['webhook-id'])
    expect((await deliveries(endpoint)).map((row) => row.status)).toEqual(['delivered', 'delivered', 'delivered'])
  })

  it('backs off exponentially from retry_delay, honours a longer Retry-After, and exhausts after max_retries', async () => {
    const endpoint = await register({ retry_delay: 5, max_retries: 2 })
    await apply('deliver-backoff', 'completed', 1)
    const delivering = worker()
    const nextAttempt = async () => Date.parse(String((await deliveries(endpoint))[0]?.next_attempt_at))

    answers = [(res) => res.writeHead(503).end()]
    const first = clock.now()
    await delivering.tick()
    expect(await nextAttempt()).toBe(first + 5000)

    await clock.advance(5000)
    answers = [(res) => res.writeHead(429, { 'retry-after': '60' }).end()]
    const second = clock.now()
    await delivering.tick()
    expect(await nextAttempt()).toBe(second + 60_000)

    await clock.advance(59_000)
    expect(await delivering.tick()).toBe(0)
    await clock.advance(1000)
    answers = [(res) => res.writeHead(500).end()]
    await delivering.tick()
    const [row] = await deliveries(endpoint)
    expect(row).toMatchObject({ status: 'exhausted', attempts: 3, last_status_code: 500, last_error: 'HTTP 500', next_attempt_at: null })
    await clock.advance(3_600_000)
    expect(await delivering.tick()).toBe(0)

    // Visible to ops: readiness detail (never a readiness failure) and the outbox gauges.
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().checks.merchantWebhooks).toMatchObject({ ready: true, delivery: 'disabled', backlog: 1, exhausted: 1, oldestUndeliveredAgeSeconds: expect.any(Number) })
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^order_mirror_outbox_backlog 1$/m)
    expect(metrics).toMatch(/^order_mirror_outbox_oldest_age_seconds \d/m)

    const retried = await app.inject({ method: 'POST', url: `/v1/merchant-webhooks/${endpoint}/deliveries/${String(row?.id)}/retry`, headers: { 'x-api-key': API_KEY } })
    expect(retried.statusCode).toBe(202)
    expect(retried.json()).toMatchObject({ status: 'pending' })
    await delivering.tick()
    expect((await deliveries(endpoint))[0]).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 200 })
    expect(receiver.received).toHaveLength(4)
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(1)
    const again = await app.inject({ method: 'POST', url: `/v1/merchant-webhooks/${endpoint}/deliveries/${String(row?.id)}/retry`, headers: { 'x-api-key': API_KEY } })
    expect(again.statusCode).toBe(409)
    expect(again.json()).toEqual({ status: 409, code: 'ALREADY_DELIVERED', message: 'The delivery was already delivered' })
  })

  it('counts each attempt by endpoint and result, with its latency', async () => {
    const endpoint = await register({ retry_delay: 1, max_retries: 0 })
    await apply('deliver-counted', 'completed', 1)
    await apply('deliver-counted-2', 'completed', 1)
    answers = [(res) => res.writeHead(500).end()]
    const metrics = createMetrics()
    const delivering = new MerchantWebhookWorker({ concurrency: 1, timeoutMs: 5000, pollIntervalMs: 1000, maxBackoffSeconds: 3600 }, {
      db: database.db,
      providers,
      policy: targetPolicy([]),
      metrics,
      log: app.log,
      clock,
      sign: (input) => signedDeliveryHeaders({ ...input, signatureHeader: SIGNATURE_HEADER })
    })
    while (await delivering.tick() > 0);
    const exposition = await metrics.registry.metrics()
    expect(exposition).toContain(`order_mirror_merchant_webhook_deliveries_total{endpoint="${endpoint}",result="exhausted"} 1`)
    expect(exposition).toContain(`order_mirror_merchant_webhook_deliveries_total{endpoint="${endpoint}",result="delivered"} 1`)
    expect(exposition).toMatch(/^order_mirror_merchant_webhook_attempt_seconds_count 2$/m)
  })

  it('an answer that does not come in time is a failed attempt, retried', async () => {
    const endpoint = await register({ retry_delay: 1 })
    await apply('deliver-timeout', 'completed', 1)
    answers = [() => { /* never answers */ }]
    const delivering = worker({ timeoutMs: 200 })
    await delivering.tick()
    expect((await deliveries(endpoint))[0]).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null, last_error: 'timeout' })
    await clock.advance(1000)
    await delivering.tick()
    expect((await deliveries(endpoint))[0]).toMatchObject({ status: 'delivered', attempts: 2 })
  })

  it('410 Gone sets the endpoint inactive; its events wait until it is active again', async () => {
    const endpoint = await register({})
    await apply('deliver-gone', 'completed', 1)
    answers = [(res) => res.writeHead(410).end()]
    const delivering = worker()
    await delivering.tick()
    const record = await app.inject({ method: 'GET', url: `/v1/merchant-webhooks/${endpoint}`, headers: { 'x-api-key': API_KEY } })
    expect(record.json().status).toBe('inactive')
    await apply('deliver-gone-2', 'completed', 2)
    expect(await delivering.tick()).toBe(0)
    expect((await deliveries(endpoint)).map((row) => row.reference_id)).toEqual(['deliver-gone'])
    const reactivated = await app.inject({ method: 'PATCH', url: `/v1/merchant-webhooks/${endpoint}`, headers: { 'x-api-key': API_KEY }, payload: { status: 'active' } })
    expect(reactivated.statusCode).toBe(200)
    while (await delivering.tick() > 0);
    expect((await deliveries(endpoint)).map((row) => row.status)).toEqual(['delivered'])
  })

  it('sends nothing to a URL the allow-list no longer takes, and says why', async () => {
    const endpoint = await register({ retry_delay: 1 })
    await apply('deliver-refused', 'completed', 1)
    await worker({ allowed: ['hooks.example.com'] }).tick()
    expect(receiver.received).toHaveLength(0)
    expect((await deliveries(endpoint))[0]).toMatchObject({ status: 'failed', last_error: 'not sent: the URL host is not in MERCHANT_WEBHOOK_ALLOWED_TARGETS' })
  })

  it('two workers on one database deliver every event exactly once', async () => {
    const endpoint = await register({})
    const refs = Array.from({ length: 30 }, (_unused, index) => `deliver-shared-${index}`)
    await Promise.all(refs.map((ref) => apply(ref, 'processing', 1)))
    await Promise.all(refs.map((ref) => apply(ref, 'completed', 2)))
    const [one, two] = [worker(), worker()]
    for (;;) {
      const [a, b] = await Promise.all([one.tick(), two.tick()])
      if (a + b === 0) break
    }
    expect(receiver.received).toHaveLength(60)
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(60)
    for (const ref of refs) {
      expect(receiver.received.filter((delivery) => envelope(delivery).data.reference_id === ref).map((delivery) => envelope(delivery).event))
        .toEqual(['order.processing', 'order.completed'])
    }
    expect((await deliveries(endpoint)).every((row) => row.status === 'delivered')).toBe(true)
  })
})
