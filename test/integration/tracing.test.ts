import type { IncomingHttpHeaders } from 'node:http'
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { buildSimulator, type Simulator } from '../../src/simulator/simulator.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody } from '../helpers/gameso-webhooks.js'
import { until } from '../helpers/until.js'

// Spans go to memory instead of a collector: the provider is registered here, before the app is
// built, as server.ts registers the OTLP one. The app then traces because its configuration names
// a collector (which is never called: the exporter is this one).
const exporter = new InMemorySpanExporter()
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register()

const API_KEY = 'sim-key'
const MERCHANT_KEY = 'tracing-merchant-key'
const WEBHOOK_SECRET = 'tracing-webhook-secret'

const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name)
/** The one finished span of that name; a request's span ends in onResponse, which may come just after the answer. */
async function one (name: string, where: (span: ReadableSpan) => boolean = () => true): Promise<ReadableSpan> {
  await until(() => named(name).some(where))
  const found = named(name).filter(where)
  expect(found, `one span "${name}"`).toHaveLength(1)
  return found[0] as ReadableSpan
}
const parentOf = (span: ReadableSpan): ReadableSpan | undefined =>
  exporter.getFinishedSpans().find((candidate) => candidate.spanContext().spanId === span.parentSpanContext?.spanId)

/** The span's ancestors' names, nearest first, up to its trace's root. */
function ancestry (span: ReadableSpan): string[] {
  const names: string[] = []
  for (let parent = parentOf(span); parent !== undefined; parent = parentOf(parent)) {
    expect(parent.spanContext().traceId).toBe(span.spanContext().traceId)
    names.push(parent.name)
  }
  return names
}

describe('tracing (spans to an in-memory exporter)', () => {
  let database: TestDatabase
  let simulator: Simulator
  let app: FastifyInstance
  const upstreamHeaders: IncomingHttpHeaders[] = []
  const logLines: Array<Record<string, unknown>> = []

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await buildSimulator({ apiKey: API_KEY, autoProgress: false })
    // What reaches the upstream, as it arrives.
    simulator.app.addHook('onRequest', async (request) => { upstreamHeaders.push(request.headers) })
    await simulator.app.listen({ host: '127.0.0.1', port: 0 })
    const address = simulator.app.server.address()
    const simulatorUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    const config = testConfig(database.url, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      LOG_LEVEL: 'info',
      API_KEYS: MERCHANT_KEY,
      GAMESO_BASE_URL: simulatorUrl,
      GAMESO_API_KEY: API_KEY,
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      // The loop claims once at start and then sleeps: the poll test drives tick() itself.
      RECONCILE_ENABLED: 'true',
      RECONCILE_INTERVAL_MS: '600000',
      INSTANCE_ID: 'tracing-test'
    })
    const logger = pino(loggerOptions(config, false), { write: (line: string) => { logLines.push(JSON.parse(line) as Record<string, unknown>) } })
    app = await buildApp(config, { db: database.db, logger })
    await app.ready()
    await until(() => app.reconciler?.lastClaim !== null)
  })

  beforeEach(() => {
    exporter.reset()
    upstreamHeaders.length = 0
  })

  afterAll(async () => {
    await app?.close()
    await simulator?.app.close()
    await database?.drop()
  })

  it('traces a webhook: its request, the signature check and the merge, with the trace id in its log line', async () => {
    const body = webhookBody(gamesoOrder('traced-webhook-1', 'processing', '2026-05-01T00:00:05.000Z'))
    const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body, WEBHOOK_SECRET), payload: body })
    expect(response.statusCode).toBe(200)

    const request = await one('request', (span) => span.attributes['http.route'] === '/webhooks/gameso')
    const verify = await one('webhook.verify')
    const merge = await one('order.merge')
    expect(verify.attributes).toMatchObject({ 'order_mirror.provider': 'gameso', 'order_mirror.signature': 'valid' })
    expect(merge.attributes).toMatchObject({ 'order_mirror.reference': 'traced-webhook-1', 'order_mirror.source': 'webhook', 'order_mirror.decision': 'insert' })
    for (const span of [verify, merge]) {
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId)
      expect(ancestry(span).at(-1)).toBe('request')
    }
    const stored = logLines.find((line) => line.msg === 'webhook stored' && line.reference === 'traced-webhook-1')
    expect(stored).toMatchObject({ trace_id: request.spanContext().traceId })
  })

  it('marks a refused signature on its span', async () => {
    const body = webhookBody(gamesoOrder('traced-webhook-2', 'processing', '2026-05-01T00:00:05.000Z'))
    const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body, 'not-the-secret'), payload: body })
    expect(response.statusCode).toBe(401)
    expect((await one('webhook.verify')).attributes['order_mirror.signature']).toBe('mismatch')
    expect(named('order.merge')).toEqual([])
  })

  it('traces a read-through to GameSO, sending the request id and the trace on', async () => {
    simulator.control.seedOrders([{ reference_id: 'traced-read-1', status: 'completed' }])
    const response = await app.inject({ method: 'GET', url: '/v1/orders/traced-read-1', headers: { 'x-api-key': MERCHANT_KEY, 'x-request-id': 'merchant-req-42' } })
    expect(response.statusCode).toBe(200)

    const request = await one('request', (span) => span.attributes['http.route'] === '/v1/orders/:reference_id')
    const call = await one('gameso get_order')
    expect(call.attributes).toMatchObject({ 'order_mirror.provider': 'gameso', 'http.response.status_code': 200 })
    expect(ancestry(call).at(-1)).toBe('request')
    expect(call.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(ancestry(await one('order.merge'))).toContain('request')

    const sent = upstreamHeaders.find((headers) => headers['x-request-id'] === 'merchant-req-42')
    expect(sent?.traceparent).toBe(`00-${call.spanContext().traceId}-${call.spanContext().spanId}-01`)
  })

  it('traces a poll: the batch, each poll, its GameSO call and its merge, the batch id sent as the request id', async () => {
    simulator.control.seedOrders([{ reference_id: 'traced-poll-1', status: 'completed' }])
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at, tracking_since)
      VALUES ('gameso', 'traced-poll-1', 'pending', 'pending', 1, 'create', now() - interval '1 second', now() - interval '1 hour')`)
    const tick = await app.reconciler?.tick()
    expect(tick).toEqual({ claimed: 1, results: { applied: 1 } })

    const batch = await one('reconcile.batch')
    const poll = await one('reconcile.poll')
    const call = await one('gameso get_order')
    const merge = await one('order.merge')
    expect(batch.parentSpanContext).toBeUndefined()
    expect(batch.attributes).toMatchObject({ 'order_mirror.provider': 'gameso', 'order_mirror.claimed': 1 })
    expect(poll.attributes).toMatchObject({ 'order_mirror.reference': 'traced-poll-1', 'order_mirror.result': 'applied' })
    expect(merge.attributes).toMatchObject({ 'order_mirror.source': 'poll', 'order_mirror.decision': 'apply' })
    expect(ancestry(call)).toEqual(['reconcile.poll', 'reconcile.batch'])
    expect(ancestry(merge)).toEqual(['reconcile.poll', 'reconcile.batch'])

    const sent = upstreamHeaders.filter((headers) => headers.traceparent?.includes(call.spanContext().spanId))
    expect(sent).toHaveLength(1)
    expect(sent[0]?.['x-request-id']).toMatch(/^tracing-test#\d+$/)
  })

  it('traces a create forwarded to GameSO', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { 'x-api-key': MERCHANT_KEY },
      payload: { reference_id: 'traced-create-1', user_id: 'player-1', items: [{ sku: 'DIAMOND_100', quantity: 1 }] }
    })
    expect(response.statusCode).toBeLessThan(300)
    const call = await one('gameso create_order')
    expect(ancestry(call).at(-1)).toBe('request')
    expect((await one('request', (span) => span.attributes['http.route'] === '/v1/orders')).spanContext().traceId).toBe(call.spanContext().traceId)
  })

  it('records no span for health probes and scrapes', async () => {
    await app.inject({ method: 'GET', url: '/health/live' })
    await app.inject({ method: 'GET', url: '/health/ready' })
    await app.inject({ method: 'GET', url: '/metrics' })
    // A traced request after them: once its span is in, theirs would be too.
    await app.inject({ method: 'GET', url: '/v1/orders/traced-webhook-1', headers: { 'x-api-key': MERCHANT_KEY } })
    await one('request', (span) => span.attributes['http.route'] === '/v1/orders/:reference_id')
    expect(named('request').map((span) => span.attributes['http.route'])).toEqual(['/v1/orders/:reference_id'])
  })
})
