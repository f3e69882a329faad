import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/metrics/metrics.js'
import { GameSoClient, createGameSoClient, type GameSoClientOptions } from '../../src/providers/gameso/gameso-client.js'
import {
  UpstreamHttpError,
  UpstreamInvalidResponseError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError
} from '../../src/upstream/upstream-errors.js'
import { ManualClock } from '../helpers/manual-clock.js'
import { until } from '../helpers/until.js'
import { freePort } from '../helpers/service-process.js'

const docsOrder = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as Record<string, unknown>
const REFERENCE = docsOrder.reference_id as string

interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

type Handler = (request: Received, response: ServerResponse) => void

function json (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(body))
}

/** A stand-in GameSO: answers with whatever the test scripted and records every request. */
class FakeGameSo {
  readonly received: Received[] = []
  private readonly held = new Set<ServerResponse>()
  handler: Handler = (_request, response) => json(response, 200, docsOrder)
  inFlight = 0
  maxInFlight = 0
  /** Stamps arrivals; tests on a manual clock point it there. */
  now: () => number = Date.now
  private server: Server | undefined

  async start (): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const received = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString(), at: this.now() }
        this.received.push(received)
        this.inFlight++
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
        response.on('close', () => { this.inFlight--; this.held.delete(response) })
        this.held.add(response)
        this.handler(received, response)
      })
    })
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`
  }

  /** Answers every request held so far (for tests that keep requests in flight on purpose). */
  releaseAll (status = 200, body: unknown = docsOrder) {
    for (const response of this.held) {
      if (!response.headersSent) json(response, status, body)
    }
  }

  reset () {
    this.releaseAll()
    this.received.length = 0
    this.maxInFlight = 0
    this.now = Date.now
    this.handler = (_request, response) => json(response, 200, docsOrder)
  }

  async stop () {
    for (const response of this.held) response.destroy()
    this.server?.closeAllConnections()
    await new Promise((resolve) => this.server?.close(resolve))
  }
}

describe('GameSoClient', () => {
  const fake = new FakeGameSo()
  let baseUrl: string
  const clients: GameSoClient[] = []
  let metrics: ReturnType<typeof createMetrics>

  /** A client on a clock that only the test moves, for everything that waits. */
  function clockedClient (overrides: Partial<GameSoClientOptions> = {}) {
    const clock = new ManualClock()
    fake.now = () => clock.now()
    return { clock, gameso: client({ clock, ...overrides }) }
  }

  function client (overrides: Partial<GameSoClientOptions> = {}) {
    const created = new GameSoClient({
      baseUrl,
      apiKey: 'key-123',
      maxRequestsPerSecond: 1000,
      maxConcurrency: 4,
      timeoutMs: 2000,
      log: pino({ level: 'silent' }),
      metrics,
      ...overrides
    })
    clients.push(created)
    return created
  }

  beforeAll(async () => { baseUrl = await fake.start() })
  afterEach(async () => {
    fake.reset()
    await Promise.all(clients.splice(0).map((created) => created.close()))
    metrics = createMetrics()
  })
  afterAll(async () => { await fake.stop() })
  metrics = createMetrics()

  describe('fetchOrder', () => {
    it('fetches the order with the API key and keeps fields GameSO may add', async () => {
      fake.handler = (_request, response) => json(response, 200, { ...docsOrder, loyalty_points: 7 })
      const result = await client().fetchOrder(REFERENCE)
      expect(result).toMatchObject({ found: true, order: { reference_id: REFERENCE, status: 'completed', loyalty_points: 7 } })
      expect(fake.received).toHaveLength(1)
      expect(fake.received[0]).toMatchObject({ method: 'GET', url: `/v1/orders/${REFERENCE}` })
      expect(fake.received[0]?.headers['x-api-key']).toBe('key-123')
    })

    it('encodes the reference into one path segment', async () => {
      fake.handler = (_request, response) => json(response, 200, { ...docsOrder, reference_id: 'a/b c?d' })
      await client().fetchOrder('a/b c?d')
      expect(fake.received[0]?.url).toBe('/v1/orders/a%2Fb%20c%3Fd')
    })

    it('reports GameSO\'s 404 as not found', async () => {
      fake.handler = (_request, response) => json(response, 404, { status: 404, code: 'NOT_FOUND', message: 'Order not found' })
      expect(await client().fetchOrder('missing')).toEqual({ found: false })
    })

    it('does not take a 404 without GameSO\'s error body for a missing order', async () => {
      fake.handler = (_request, response) => { response.writeHead(404, { 'content-type': 'text/html' }); response.end('<h1>Not Found</h1>') }
      const error = await client().fetchOrder('missing').catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamHttpError)
      expect(error).toMatchObject({ status: 404, body: null, sent: true, operation: 'get_order' })
    })

    it('parses GameSO\'s error body into a typed error', async () => {
      fake.handler = (_request, response) => json(response, 401, { status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' })
      const error = await client().fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamHttpError)
      expect(error).toMatchObject({ status: 401, body: { status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' } })
    })

    it.each([
      ['not JSON', 'oops', /not JSON/],
      ['a body failing the schema', JSON.stringify({ ...docsOrder, total_amount: 101 }), /total_amount/],
      ['another order than the one asked for', JSON.stringify({ ...docsOrder, reference_id: 'someone-else' }), /does not match/]
    ])('refuses a 200 carrying %s', async (_what, body, problem) => {
      fake.handler = (_request, response) => { response.writeHead(200, { 'content-type': 'application/json' }); response.end(body) }
      const error = await client().fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamInvalidResponseError)
      expect((error as UpstreamInvalidResponseError).problem).toMatch(problem)
    })

    it('refuses an answer larger than the response limit', async () => {
      fake.handler = (_request, response) => json(response, 200, { ...docsOrder, padding: 'x'.repeat(10_000) })
      const error = await client({ maxResponseBytes: 2000 }).fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamInvalidResponseError)
      expect((error as Error).message).toMatch(/larger than 2000 bytes/)
    })

    it('times out a request GameSO does not answer, and counts it', async () => {
      fake.handler = () => {}
      const { clock, gameso } = clockedClient({ timeoutMs: 150 })
      const pending = gameso.fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      await until(() => fake.received.length === 1)
      await clock.advance(149)
      expect(gameso.state().consecutiveFailures).toBe(0)
      await clock.advance(1)
      const error = await pending
      expect(error).toBeInstanceOf(UpstreamTimeoutError)
      expect(error).toMatchObject({ sent: true })
      const counted = await metrics.upstreamRequestsTotal.get()
      expect(counted.values).toContainEqual(expect.objectContaining({ labels: { provider: 'gameso', operation: 'get_order', status: 'timeout' }, value: 1 }))
    })

    it('reports an unreachable GameSO as unavailable', async () => {
      const port = await freePort()
      const error = await client({ baseUrl: `http://127.0.0.1:${port}` }).fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UpstreamUnavailableError)
      expect(error).toMatchObject({ sent: true })
      expect((error as Error).message).toMatch(/ECONNREFUSED/)
    })
  })

  describe('createOrder', () => {
    const body = { reference_id: REFERENCE, user_id: 'u1', items: [{ sku: 'ROMC-Z-1800K', quantity: 1 }] }

    it('posts the body as JSON and returns the validated order with GameSO\'s exact answer', async () => {
      fake.handler = (_request, response) => json(response, 200, { ...docsOrder, status: 'pending' })
      const result = await client().createOrder(body)
      expect(fake.received[0]).toMatchObject({ method: 'POST', url: '/v1/orders' })
      expect(JSON.parse(fake.received[0]?.body ?? '')).toEqual(body)
      expect(fake.received[0]?.headers['content-type']).toBe('application/json')
      expect(result).toMatchObject({ status: 200, order: { status: 'pending', reference_id: REFERENCE }, error: null, retryAfterMs: null })
      expect(result.rawBody).toBe(JSON.stringify({ ...docsOrder, status: 'pending' }))
    })

    it.each([
      [400, { status: 400, code: 'VALIDATION_ERROR', message: 'items is required' }],
      [409, { status: 409, code: 'DUPLICATE_REFERENCE', message: 'reference_id already used' }],
      [503, { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'balance insufficient' }]
    ])('returns a %i unchanged with its parsed error', async (status, errorBody) => {
      fake.handler = (_request, response) => json(response, status, errorBody)
      const gameso = client()
      const result = await gameso.createOrder(body)
      expect(result).toMatchObject({ status, body: errorBody, rawBody: JSON.stringify(errorBody), contentType: 'application/json', order: null, error: errorBody })
      // GameSO's 503 to a create is a business answer, not a sign to back off.
      expect(gameso.pausedForMs()).toBe(0)
    })

    it('relays a body that is not JSON as text', async () => {
      fake.handler = (_request, response) => { response.writeHead(502, { 'content-type': 'text/html' }); response.end('<h1>Bad gateway</h1>') }
      const result = await client().createOrder(body)
      expect(result).toMatchObject({ status: 502, body: null, rawBody: '<h1>Bad gateway</h1>', contentType: 'text/html', error: null })
    })

    it('throws when a 200 is not a valid order, so the mirror does not store a guess', async () => {
      fake.handler = (_request, response) => json(response, 200, { ok: true })
      await expect(client().createOrder(body)).rejects.toBeInstanceOf(UpstreamInvalidResponseError)
    })
  })

  describe('politeness', () => {
    it('pauses after a 429 for its Retry-After: an interactive call in the pause is refused unsent', async () => {
      fake.handler = (_request, response) => json(response, 429, { status: 429, code: 'RATE_LIMITED', message: 'slow down' }, { 'retry-after': '30' })
      const gameso = client()
      const first = await gameso.fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(first).toBeInstanceOf(UpstreamRateLimitedError)
      expect(first).toMatchObject({ retryAfterMs: 30_000, sent: true, body: { code: 'RATE_LIMITED' } })
      expect(gameso.pausedForMs()).toBeGreaterThan(25_000)
      expect(gameso.state()).toMatchObject({ pauseReason: 'rate_limited', rateHeadroom: 0.02 })

      const second = await gameso.fetchOrder(REFERENCE).catch((caught: unknown) => caught)
      expect(second).toBeInstanceOf(UpstreamRateLimitedError)
      expect(second).toMatchObject({ sent: false })
      expect(fake.received).toHaveLength(1)
    })

    it('holds queued calls until the pause ends, then sends them', async () => {
      let calls = 0
      fake.handler = (_request, response) => {
        calls++
        if (calls === 1) json(response, 429, { status: 429, code: 'RATE_LIMITED', message: 'slow down' })
        else json(response, 200, docsOrder)
      }
      const { clock, gameso } = clockedClient({ defaultRetryAfterMs: 300 })
      await expect(gameso.fetchOrder(REFERENCE)).rejects.toBeInstanceOf(UpstreamRateLimitedError)
      const answer = gameso.fetchOrder(REFERENCE, { priority: 'background' })
      await clock.advance(299)
      expect(gameso.state()).toMatchObject({ queued: 1, pausedForMs: 1, pauseReason: 'rate_limited' })
      await clock.advance(1)
      expect((await answer).found).toBe(true)
      const [limited, retried] = fake.received
      expect(retried!.at - limited!.at).toBe(300)
    })

    it('after a pause, sends one probe and holds the other calls until it is answered', async () => {
      let calls = 0
      fake.handler = (_request, response) => {
        calls++
        if (calls === 1) json(response, 429, { status: 429, code: 'RATE_LIMITED', message: 'slow down' })
      }
      const { clock, gameso } = clockedClient({ defaultRetryAfterMs: 100 })
      await expect(gameso.fetchOrder(REFERENCE)).rejects.toBeInstanceOf(UpstreamRateLimitedError)
      const queued = Array.from({ length: 3 }, () => gameso.fetchOrder(REFERENCE, { priority: 'background' }))
      await clock.advance(100)
      await until(() => fake.received.length === 2)
      // The probe is held unanswered: nothing else may go meanwhile, up to its timeout.
      await clock.advance(1999)
      expect(gameso.state().queued).toBe(2)
      expect(fake.received).toHaveLength(2)
      fake.handler = (_request, response) => json(response, 200, docsOrder)
      fake.releaseAll()
      expect((await Promise.all(queued)).every((answer) => answer.found)).toBe(true)
      expect(fake.received).toHaveLength(4)
    })

    it('backs off after a 5xx to a read, and a burst of failures in flight counts once', async () => {
      fake.handler = () => {}
      const { clock, gameso } = clockedClient({ failureBackoffBaseMs: 5000 })
      const calls = Array.from({ length: 3 }, () => gameso.fetchOrder(REFERENCE).catch((caught: unknown) => caught))
      // Sent 1 ms apart at 1,000 req/s.
      await clock.advance(2)
      await until(() => fake.received.length === 3)
      fake.releaseAll(503, { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'down' })
      const errors = await Promise.all(calls)
      for (const error of errors) expect(error).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } })
      expect(gameso.state()).toMatchObject({ pauseReason: 'failing', consecutiveFailures: 1 })
      expect(gameso.pausedForMs()).toBe(5000)
      await expect(gameso.fetchOrder(REFERENCE)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', sent: false })

      // The probe after the pause fails too: the next pause doubles.
      const probe = gameso.fetchOrder(REFERENCE, { priority: 'background' }).catch((caught: unknown) => caught)
      await clock.advance(5000)
      await until(() => fake.received.length === 4)
      fake.releaseAll(503, { status: 503, code: 'SERVICE_UNAVAILABLE', message: 'down' })
      expect(await probe).toMatchObject({ status: 503 })
      expect(gameso.state()).toMatchObject({ pauseReason: 'failing', consecutiveFailures: 2, pausedForMs: 10_000 })
    })

    it('keeps no more requests in flight than its concurrency', async () => {
      fake.handler = () => {}
      const gameso = client({ maxConcurrency: 3 })
      const calls = Array.from({ length: 8 }, () => gameso.fetchOrder(REFERENCE))
      await until(() => fake.received.length === 3)
      expect(gameso.state().queued).toBe(5)
      while (fake.received.length < 8) {
        fake.releaseAll()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      fake.releaseAll()
      await Promise.all(calls)
      expect(fake.maxInFlight).toBe(3)
    })

    it('spaces requests evenly at the rate limit', async () => {
      const { clock, gameso } = clockedClient({ maxRequestsPerSecond: 20, maxConcurrency: 10 })
      const calls = Array.from({ length: 6 }, () => gameso.fetchOrder(REFERENCE))
      const queuedAfter: number[] = []
      for (let step = 0; step < 6; step++) {
        queuedAfter.push(gameso.state().queued)
        await clock.advance(49)
        expect(gameso.state().queued).toBe(queuedAfter.at(-1))
        await clock.advance(1)
      }
      // One send at once, then one every 50 ms.
      expect(queuedAfter).toEqual([5, 4, 3, 2, 1, 0])
      await Promise.all(calls)
    })

    it('keeps a request slot free for interactive calls while background polls hold the others', async () => {
      fake.handler = (request, response) => { if (request.url.includes('interactive')) json(response, 200, { ...docsOrder, reference_id: 'interactive' }) }
      const gameso = client({ maxConcurrency: 3 })
      const background = Array.from({ length: 5 }, () => gameso.fetchOrder(REFERENCE, { priority: 'background' }))
      await until(() => fake.received.length === 2)
      const interactive = await gameso.fetchOrder('interactive')
      expect(interactive.found).toBe(true)
      expect(fake.received.filter((request) => request.url.endsWith(REFERENCE))).toHaveLength(2)
      fake.handler = (_request, response) => json(response, 200, docsOrder)
      fake.releaseAll()
      while (fake.received.length < 6) {
        fake.releaseAll()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await Promise.all(background)
    })

    it('does not send a call whose send-by time passed while it was queued', async () => {
      fake.handler = () => {}
      const { clock, gameso } = clockedClient({ maxConcurrency: 1 })
      const blocker = gameso.fetchOrder(REFERENCE)
      await until(() => fake.received.length === 1)
      const late = gameso.fetchOrder('late', { priority: 'background', sendBy: clock.now() + 20 })
      late.catch(() => {})
      await clock.advance(20)
      expect(gameso.state().queued).toBe(1)
      await clock.advance(1)
      await expect(late).rejects.toMatchObject({ name: 'UpstreamTimeoutError', sent: false })
      expect(gameso.state().queued).toBe(0)
      fake.releaseAll()
      await blocker
      expect(fake.received).toHaveLength(1)
    })

    it('drops a queued call when its signal aborts, without sending it', async () => {
      fake.handler = () => {}
      const gameso = client({ maxConcurrency: 1 })
      const blocker = gameso.fetchOrder(REFERENCE)
      await until(() => fake.received.length === 1)
      const controller = new AbortController()
      const queued = gameso.fetchOrder('queued', { priority: 'background', signal: controller.signal })
      expect(gameso.state().queued).toBe(1)
      controller.abort(new Error('stopping'))
      await expect(queued).rejects.toThrow('stopping')
      expect(gameso.state().queued).toBe(0)
      fake.releaseAll()
      await blocker
      expect(fake.received).toHaveLength(1)
    })

    it('rejects calls after close without sending them', async () => {
      const gameso = client()
      await gameso.close()
      await expect(gameso.fetchOrder(REFERENCE)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', sent: false })
      expect(fake.received).toHaveLength(0)
    })
  })

  it('counts every answered call by status with its latency', async () => {
    fake.handler = (request, response) => request.url.endsWith('missing')
      ? json(response, 404, { status: 404, code: 'NOT_FOUND', message: 'Order not found' })
      : json(response, 200, docsOrder)
    const gameso = client()
    await gameso.fetchOrder(REFERENCE)
    await gameso.fetchOrder('missing')
    const counted = await metrics.upstreamRequestsTotal.get()
    expect(counted.values.map((value) => [value.labels.status, value.value])).toEqual([['200', 1], ['404', 1]])
    const latency = await metrics.upstreamRequestSeconds.get()
    expect(latency.values.find((value) => value.metricName === 'order_mirror_upstream_request_seconds_count')?.value).toBe(2)
  })

  it('is not created without an API key', () => {
    const config = { baseUrl, apiKey: undefined, maxRequestsPerSecond: 10, maxConcurrency: 2, timeoutMs: 1000 }
    expect(createGameSoClient(config, { log: pino({ level: 'silent' }) })).toBeNull()
    const created = createGameSoClient({ ...config, apiKey: 'k' }, { log: pino({ level: 'silent' }) })
    expect(created).toBeInstanceOf(GameSoClient)
    clients.push(created as GameSoClient)
  })
})
