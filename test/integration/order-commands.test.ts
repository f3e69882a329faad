import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { gamesoConnection } from '../../src/providers/gameso/gameso-api.js'
import type { GameSoClient } from '../../src/providers/gameso/gameso-client.js'
import { OrderCommands } from '../../src/services/order-commands.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { freePort } from '../helpers/service-process.js'

const MERCHANT_KEY = 'merchant-key'
const MIRROR_KEY = 'mirror-own-gameso-key'
const docsOrder = JSON.parse(readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url), 'utf8')).data as GameSoOrder

function gamesoOrder (reference: string, status: GameSoOrder['status'], updatedAt: string, overrides: Partial<GameSoOrder> = {}): GameSoOrder {
  const { completed_at: _completedAt, ...withoutCompletion } = docsOrder
  return { ...withoutCompletion, reference_id: reference, status, updated_at: updatedAt, ...(status === 'completed' ? { completed_at: updatedAt } : {}), ...overrides }
}

interface Answer {
  status: number
  /** A string is sent byte for byte; anything else as JSON. */
  body: unknown
  headers?: Record<string, string>
  delayMs?: number
}

/**
 * A scripted GameSO on a real port, so the mirror's own client (rate limit, timeouts, parsing)
 * sits between the routes and it. By default it creates orders (pending) and serves them.
 */
class FakeGameSo {
  readonly orders = new Map<string, GameSoOrder>()
  creates: Array<{ body: Record<string, unknown>, apiKey: unknown }> = []
  gets: string[] = []
  onCreate: (body: Record<string, unknown>) => Answer = (body) => this.createPending(body)
  onGet: (reference: string) => Answer = (reference) => this.serve(reference)

  createPending (body: Record<string, unknown>): Answer {
    const order = gamesoOrder(String(body.reference_id), 'pending', '2026-05-01T10:00:00.000Z', { order_number: `ord_${String(body.reference_id)}` })
    this.orders.set(order.reference_id, order)
    return { status: 200, body: order }
  }

  serve (reference: string): Answer {
    const order = this.orders.get(reference)
    return order ? { status: 200, body: order } : { status: 404, body: { status: 404, code: 'NOT_FOUND', message: 'Order not found' } }
  }

  private readonly app: FastifyInstance = Fastify()
  url = ''

  async start (): Promise<void> {
    const send = async (answer: Answer, reply: import('fastify').FastifyReply) => {
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs))
      reply.code(answer.status).headers(answer.headers ?? {})
      if (typeof answer.body === 'string') return reply.type('application/json').send(answer.body)
      return reply.send(answer.body)
    }
    this.app.post('/v1/orders', async (request, reply) => {
      const body = request.body as Record<string, unknown>
      this.creates.push({ body, apiKey: request.headers['x-api-key'] })
      return send(this.onCreate(body), reply)
    })
    this.app.get<{ Params: { reference: string } }>('/v1/orders/:reference', async (request, reply) => {
      this.gets.push(request.params.reference)
      return send(this.onGet(request.params.reference), reply)
    })
    this.url = await this.app.listen({ port: 0, host: '127.0.0.1' })
  }

  reset (): void {
    this.orders.clear()
    this.creates = []
    this.gets = []
    this.onCreate = (body) => this.createPending(body)
    this.onGet = (reference) => this.serve(reference)
  }

  async close (): Promise<void> { await this.app.close() }
}

describe('create-through-mirror, read-through, track and force sync', () => {
  let database: TestDatabase
  let gameso: FakeGameSo
  let app: FastifyInstance
  const extraApps: FastifyInstance[] = []

  async function startApp (overrides: Record<string, string> = {}): Promise<FastifyInstance> {
    const instance = await buildApp(testConfig(database.url, {
      API_KEYS: MERCHANT_KEY,
      GAMESO_API_KEY: MIRROR_KEY,
      GAMESO_BASE_URL: gameso.url,
      GAMESO_MAX_REQUESTS_PER_SECOND: '1000',
      ...overrides
    }), { db: database.db })
    await instance.ready()
    if (instance !== app) extraApps.push(instance)
    return instance
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    gameso = new FakeGameSo()
    await gameso.start()
    app = await startApp()
    extraApps.length = 0
  })
  afterEach(() => { gameso.reset() })
  afterAll(async () => {
    await Promise.all(extraApps.map((instance) => instance.close()))
    await app.close()
    await gameso.close()
    await database.drop()
  })

  const headers = { 'x-api-key': MERCHANT_KEY }

  function create (payload: unknown, on: FastifyInstance = app) {
    return on.inject({ method: 'POST', url: '/v1/orders', headers, payload: payload as Record<string, unknown> })
  }

  function createBody (reference: string, extra: Record<string, unknown> = {}) {
    return { reference_id: reference, user_id: 'player-1', items: [{ sku: 'DIAMOND_100', quantity: 2 }], ...extra }
  }

  async function row (reference: string) {
    const result = await database.db.pool.query(`
      SELECT o.*, next_poll_at <= now() AS due,
        (SELECT json_agg(json_build_array(h.from_status, h.to_status, h.source) ORDER BY h.id)
           FROM order_status_history h WHERE h.order_id = o.id) AS history
        FROM orders o WHERE provider = 'gameso' AND reference = $1`, [reference])
    return result.rows[0]
  }

  describe('POST /v1/orders: what the mirror refuses itself', () => {
    it('asks for the merchant key first', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders', payload: createBody('ref-nokey') })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({ status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' })
    })

    it.each([
      ['not JSON', '{"reference_id": ', 'application/json'],
      ['an empty JSON body', '', 'application/json'],
      ['a JSON array', '[]', 'application/json'],
      ['a JSON string', '"order"', 'application/json'],
      ['plain text', 'reference_id=1', 'text/plain']
    ])('answers 400 BAD_REQUEST to %s', async (_case, payload, contentType) => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders', headers: { ...headers, 'content-type': contentType }, payload })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
      expect(gameso.creates).toHaveLength(0)
    })

    it('answers 400 BAD_REQUEST when there is no body at all', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders', headers })
      expect(response.json()).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'Request body must be a JSON object' })
    })

    it('answers 415 to a content type it does not read', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders', headers: { ...headers, 'content-type': 'application/xml' }, payload: '<order/>' })
      expect(response.statusCode).toBe(415)
      expect(response.json()).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
    })

    it.each([
      ['reference_id missing', { user_id: 'u', items: [{ sku: 'A' }] }, 'reference_id: is required'],
      ['reference_id empty', { reference_id: '', user_id: 'u', items: [{ sku: 'A' }] }, 'reference_id: must not be empty'],
      ['reference_id too long', { reference_id: 'r'.repeat(256), user_id: 'u', items: [{ sku: 'A' }] }, 'reference_id: must be at most 255 characters'],
      ['reference_id a number', { reference_id: 7, user_id: 'u', items: [{ sku: 'A' }] }, 'reference_id: must be a string'],
      ['user_id missing', { reference_id: 'r', items: [{ sku: 'A' }] }, 'user_id: is required'],
      ['items missing', { reference_id: 'r', user_id: 'u' }, 'items: is required'],
      ['items not an array', { reference_id: 'r', user_id: 'u', items: { sku: 'A' } }, 'items: must be an array'],
      ['items empty', { reference_id: 'r', user_id: 'u', items: [] }, 'items: must contain at least 1 item'],
      ['an item not an object', { reference_id: 'r', user_id: 'u', items: ['A'] }, 'items.0: must be an object'],
      ['sku missing', { reference_id: 'r', user_id: 'u', items: [{ quantity: 1 }] }, 'items.0.sku: is required'],
      ['quantity 0', { reference_id: 'r', user_id: 'u', items: [{ sku: 'A', quantity: 0 }] }, 'items.0.quantity: must be at least 1'],
      ['quantity fractional', { reference_id: 'r', user_id: 'u', items: [{ sku: 'A', quantity: 1.5 }] }, 'items.0.quantity: must be an integer'],
      ['quantity a string', { reference_id: 'r', user_id: 'u', items: [{ sku: 'A', quantity: '2' }] }, 'items.0.quantity: must be an integer'],
      ['server_id a number', { reference_id: 'r', user_id: 'u', items: [{ sku: 'A' }], server_id: 12 }, 'server_id: must be a string']
    ])('answers 400 VALIDATION_ERROR naming the field: %s', async (_case, payload, message) => {
      const response = await create(payload)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' })
      expect(response.json().message).toContain(message)
      expect(gameso.creates).toHaveLength(0)
      expect(await row('r')).toBeUndefined()
    })

    it('answers 503 GAMESO_NOT_CONFIGURED without a GameSO key, and records nothing', async () => {
      const unconfigured = await startApp({ GAMESO_API_KEY: '' })
      const response = await create(createBody('ref-unconfigured'), unconfigured)
      expect(response.statusCode).toBe(503)
      expect(response.json()).toMatchObject({ status: 503, code: 'GAMESO_NOT_CONFIGURED' })
      expect(await row('ref-unconfigured')).toBeUndefined()
    })
  })

  describe('POST /v1/orders: GameSO answers', () => {
    it('forwards the body as sent with the mirror\'s key, relays GameSO\'s bytes and stores the order', async () => {
      gameso.onCreate = (body) => {
        const order = gamesoOrder(String(body.reference_id), 'pending', '2026-05-01T10:00:00.000Z', { order_number: 'ord_fresh' })
        gameso.orders.set(order.reference_id, order)
        // GameSO's own formatting and a field the mirror does not know: both must reach the merchant.
        return { status: 200, body: JSON.stringify({ ...order, loyalty_points: 3 }, null, 1) }
      }
      const body = createBody('ref-created', { server_id: 'asia-1', promo: 'X1' })
      const response = await create(body)
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      expect(response.body).toBe(JSON.stringify({ ...gameso.orders.get('ref-created'), loyalty_points: 3 }, null, 1))
      expect(gameso.creates).toEqual([{ body, apiKey: MIRROR_KEY }])

      const stored = await row('ref-created')
      expect(stored).toMatchObject({ status: 'pending', provider_order_id: 'ord_fresh', last_source: 'create', reconcile_state: 'active', due: false })
      expect(stored.upstream_updated_at.toISOString()).toBe('2026-05-01T10:00:00.000Z')
      expect(stored.history).toEqual([[null, 'pending', 'create']])

      const read = await app.inject({ method: 'GET', url: '/v1/orders/ref-created', headers })
      expect(read.json()).toMatchObject({ order_number: 'ord_fresh', reference_id: 'ref-created', status: 'pending', total_amount: '101.00' })
    })

    it('relays a GameSO 400 unchanged and keeps no phantom order', async () => {
      const refusal = { status: 400, code: 'INVALID_SKU', message: 'SKU DIAMOND_100 is not available' }
      gameso.onCreate = () => ({ status: 400, body: refusal })
      const response = await create(createBody('ref-invalid-sku'))
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual(refusal)
      expect(await row('ref-invalid-sku')).toBeUndefined()
    })

    it('relays a GameSO 409 and fetches the order GameSO already has', async () => {
      gameso.onCreate = () => ({ status: 409, body: { status: 409, code: 'DUPLICATE_REFERENCE', message: 'reference_id already used' } })
      const response = await create(createBody('ref-elsewhere'))
      expect(response.statusCode).toBe(409)
      expect(response.json()).toMatchObject({ code: 'DUPLICATE_REFERENCE', message: 'reference_id already used' })
      expect(await row('ref-elsewhere')).toMatchObject({ status: 'pending', upstream_updated_at: null, reconcile_state: 'active', due: true })
    })

    it('relays a GameSO 503 and keeps the order for the reconciler: GameSO may have recorded it', async () => {
      const unavailable = { status: 503, code: 'INSUFFICIENT_BALANCE', message: 'balance insufficient' }
      gameso.onCreate = () => ({ status: 503, body: unavailable })
      const response = await create(createBody('ref-503'))
      expect(response.statusCode).toBe(503)
      expect(response.json()).toEqual(unavailable)
      expect(await row('ref-503')).toMatchObject({ status: 'pending', reconcile_state: 'active', upstream_updated_at: null })
    })

    it('answers 409 itself for a reference GameSO has already reported, without forwarding', async () => {
      await create(createBody('ref-known'))
      expect(gameso.creates).toHaveLength(1)
      const again = await create(createBody('ref-known'))
      expect(again.statusCode).toBe(409)
      expect(again.json()).toEqual({ status: 409, code: 'DUPLICATE_REFERENCE', message: 'reference_id ref-known is already used by an existing order' })
      expect(gameso.creates).toHaveLength(1)
    })

    it('forwards a retry of a create GameSO never answered: GameSO decides', async () => {
      gameso.onCreate = () => ({ status: 503, body: { status: 503, code: 'UNAVAILABLE', message: 'try later' } })
      await create(createBody('ref-retry'))
      gameso.onCreate = (body) => gameso.createPending(body)
      const retry = await create(createBody('ref-retry'))
      expect(retry.statusCode).toBe(200)
      expect(gameso.creates).toHaveLength(2)
      expect(await row('ref-retry')).toMatchObject({ status: 'pending', provider_order_id: 'ord_ref-retry' })
    })

    it('lets GameSO settle two concurrent creates of one reference: one order, one 409', async () => {
      let answered = 0
      gameso.onCreate = (body) => {
        answered++
        if (answered > 1) return { status: 409, body: { status: 409, code: 'DUPLICATE_REFERENCE', message: 'already used' }, delayMs: 50 }
        const order = gamesoOrder(String(body.reference_id), 'pending', '2026-05-01T10:00:00.000Z')
        return { status: 200, body: order }
      }
      const responses = await Promise.all([create(createBody('ref-race')), create(createBody('ref-race'))])
      expect(responses.map((response) => response.statusCode).sort()).toEqual([200, 409])
      const count = await database.db.pool.query("SELECT count(*)::int AS n FROM orders WHERE reference = 'ref-race'")
      expect(count.rows[0].n).toBe(1)
      expect(await row('ref-race')).toMatchObject({ provider_order_id: docsOrder.order_number })
    })

    it('answers 502 UPSTREAM_UNAUTHORIZED when GameSO refuses the mirror\'s key, not 401', async () => {
      gameso.onCreate = () => ({ status: 401, body: { status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' } })
      const response = await create(createBody('ref-badkey'))
      expect(response.statusCode).toBe(502)
      expect(response.json()).toMatchObject({ status: 502, code: 'UPSTREAM_UNAUTHORIZED' })
      expect(await row('ref-badkey')).toBeUndefined()
    })

    it('answers 502 UPSTREAM_INVALID_RESPONSE to a 200 it cannot read, and has the order fetched', async () => {
      gameso.onCreate = () => ({ status: 200, body: '<html>ok</html>' })
      const response = await create(createBody('ref-garbled'))
      expect(response.statusCode).toBe(502)
      expect(response.json()).toMatchObject({ status: 502, code: 'UPSTREAM_INVALID_RESPONSE' })
      expect(await row('ref-garbled')).toMatchObject({ status: 'pending', reconcile_state: 'active', due: true })
    })
  })

  describe('OrderCommands.create when the mirror\'s own bookkeeping fails', () => {
    it('still relays GameSO\'s 200, and the placeholder stays for the reconciler', async () => {
      const answer = gamesoOrder('ref-store-fails', 'pending', '2026-05-01T10:00:00.000Z')
      const client = {
        fetchOrder: async () => ({ found: false as const }),
        createOrder: async () => ({ status: 200, body: answer, rawBody: JSON.stringify(answer), contentType: 'application/json', order: answer, error: null, retryAfterMs: null })
      } as unknown as GameSoClient
      const connection = gamesoConnection(client, { maxRequestsPerSecond: 1, timeoutMs: 0 })
      const commands = new OrderCommands({
        db: database.db,
        sync: { applySnapshot: async () => { throw new Error('connection terminated') } },
        upstreams: { get: () => connection, disabledReason: () => null, displayName: () => 'GameSO' },
        placeholderStatus: () => 'pending'
      })
      const relayed = await commands.create('gameso', { reference_id: 'ref-store-fails', user_id: 'u', items: [{ sku: 'DIAMOND_100' }] }, pino({ level: 'silent' }))
      expect(relayed).toEqual({ status: 200, rawBody: JSON.stringify(answer), contentType: 'application/json', retryAfterSeconds: null })
      expect(await row('ref-store-fails')).toMatchObject({ status: 'pending', upstream_updated_at: null, reconcile_state: 'active', due: true })
    })
  })

  describe('POST /v1/orders: GameSO unreachable', () => {
    it('answers 504 UPSTREAM_TIMEOUT and leaves the order for the reconciler', async () => {
      const impatient = await startApp({ GAMESO_TIMEOUT_MS: '200' })
      gameso.onCreate = () => ({ status: 200, body: gamesoOrder('ref-slow', 'pending', '2026-05-01T10:00:00.000Z'), delayMs: 1500 })
      const response = await create(createBody('ref-slow'), impatient)
      expect(response.statusCode).toBe(504)
      expect(response.json()).toEqual({ status: 504, code: 'UPSTREAM_TIMEOUT', message: 'GameSO did not answer in time' })
      expect(await row('ref-slow')).toMatchObject({ status: 'pending', reconcile_state: 'active', upstream_updated_at: null, last_source: 'create' })
    })

    it('answers 502 UPSTREAM_UNAVAILABLE when GameSO cannot be reached, and leaves the order', async () => {
      const nowhere = await startApp({ GAMESO_BASE_URL: `http://127.0.0.1:${await freePort()}` })
      const response = await create(createBody('ref-unreachable'), nowhere)
      expect(response.statusCode).toBe(502)
      expect(response.json()).toEqual({ status: 502, code: 'UPSTREAM_UNAVAILABLE', message: 'GameSO cannot be reached' })
      expect(await row('ref-unreachable')).toMatchObject({ status: 'pending', reconcile_state: 'active' })
    })

    it('relays a 429 with Retry-After, then holds back the next create without sending it', async () => {
      const limited = await startApp()
      gameso.onCreate = () => ({ status: 429, body: { status: 429, code: 'RATE_LIMITED', message: 'slow down' }, headers: { 'retry-after': '120' } })
      const first = await create(createBody('ref-429'), limited)
      expect(first.statusCode).toBe(429)
      expect(first.headers['retry-after']).toBe('120')
      expect(first.json()).toEqual({ status: 429, code: 'RATE_LIMITED', message: 'slow down' })
      expect(await row('ref-429')).toBeUndefined()

      const second = await create(createBody('ref-held'), limited)
      expect(second.statusCode).toBe(503)
      expect(second.json()).toMatchObject({ status: 503, code: 'UPSTREAM_RATE_LIMITED' })
      expect(Number(second.headers['retry-after'])).toBeGreaterThan(100)
      expect(gameso.creates).toHaveLength(1)
      expect(await row('ref-held')).toBeUndefined()
    })
  })

  describe('GET /v1/orders/{reference_id}: read-through on a local miss', () => {
    function read (reference: string, on: FastifyInstance = app) {
      return on.inject({ method: 'GET', url: `/v1/orders/${reference}`, headers })
    }

    it('fetches an order the mirror does not have once, stores it (source poll) and serves it from then on', async () => {
      gameso.orders.set('ref-rt', gamesoOrder('ref-rt', 'processing', '2026-05-03T00:00:00.000Z'))
      const first = await read('ref-rt')
      expect(first.statusCode).toBe(200)
      expect(first.json()).toEqual({ ...gamesoOrder('ref-rt', 'processing', '2026-05-03T00:00:00.000Z') })
      expect(await row('ref-rt')).toMatchObject({ status: 'processing', reconcile_state: 'active', history: [[null, 'processing', 'poll']] })
      const second = await read('ref-rt')
      expect(second.json()).toEqual(first.json())
      expect(gameso.gets).toEqual(['ref-rt'])
    })

    it('answers 404 NOT_FOUND when GameSO has no such order either, and stores nothing', async () => {
      const response = await read('ref-rt-none')
      expect(response.statusCode).toBe(404)
      expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
      expect(gameso.gets).toEqual(['ref-rt-none'])
      expect(await row('ref-rt-none')).toBeUndefined()
    })

    it('does not ask GameSO when it is not configured', async () => {
      const unconfigured = await startApp({ GAMESO_API_KEY: '' })
      gameso.orders.set('ref-rt-off', gamesoOrder('ref-rt-off', 'completed', '2026-05-03T00:00:00.000Z'))
      const response = await read('ref-rt-off', unconfigured)
      expect(response.statusCode).toBe(404)
      expect(gameso.gets).toHaveLength(0)
    })

    it('never turns a GameSO failure into a 404: 502 and 504 instead', async () => {
      const failing = await startApp()
      gameso.onGet = () => ({ status: 502, body: '<html>bad gateway</html>' })
      const broken = await read('ref-rt-broken', failing)
      expect(broken.statusCode).toBe(502)
      expect(broken.json()).toEqual({ status: 502, code: 'UPSTREAM_ERROR', message: 'GameSO answered HTTP 502' })
      // A fresh client: the failure above makes this one hold back for a moment, by design.
      const impatient = await startApp({ GAMESO_TIMEOUT_MS: '200' })
      gameso.onGet = () => ({ status: 404, body: { status: 404, code: 'NOT_FOUND', message: 'x' }, delayMs: 1500 })
      const slow = await read('ref-rt-slow', impatient)
      expect(slow.statusCode).toBe(504)
      expect(slow.json()).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' })
    })
  })

  describe('POST /v1/orders/{reference_id}/track', () => {
    it('starts following a reference: pending, polled at once, source track', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders/ref-track/track', headers })
      expect(response.statusCode).toBe(202)
      expect(response.json()).toMatchObject({
        reference_id: 'ref-track',
        tracking: 'started',
        reconcile_state: 'active',
        order: { reference_id: 'ref-track', order_number: null, status: 'pending', items: [] }
      })
      expect(await row('ref-track')).toMatchObject({ last_source: 'track', due: true, history: [[null, 'pending', 'track']] })
      expect(gameso.gets).toHaveLength(0)

      const again = await app.inject({ method: 'POST', url: '/v1/orders/ref-track/track', headers })
      expect(again.statusCode).toBe(200)
      expect(again.json()).toMatchObject({ tracking: 'unchanged', reconcile_state: 'active' })
    })

    it('leaves a final order alone and resumes one the reconciler gave up on', async () => {
      await create(createBody('ref-track-final'))
      await database.db.pool.query("UPDATE orders SET status = 'completed', provider_status = 'completed', status_rank = 3, is_final = true, reconcile_state = 'final', next_poll_at = NULL WHERE reference = 'ref-track-final'")
      const final = await app.inject({ method: 'POST', url: '/v1/orders/ref-track-final/track', headers })
      expect(final.statusCode).toBe(200)
      expect(final.json()).toMatchObject({ tracking: 'unchanged', reconcile_state: 'final', order: { status: 'completed' } })

      await app.inject({ method: 'POST', url: '/v1/orders/ref-track-lost/track', headers })
      await database.db.pool.query("UPDATE orders SET reconcile_state = 'not_found_upstream', next_poll_at = NULL, not_found_count = 5 WHERE reference = 'ref-track-lost'")
      const resumed = await app.inject({ method: 'POST', url: '/v1/orders/ref-track-lost/track', headers })
      expect(resumed.statusCode).toBe(202)
      expect(resumed.json()).toMatchObject({ tracking: 'resumed', reconcile_state: 'active' })
      expect(await row('ref-track-lost')).toMatchObject({ reconcile_state: 'active', not_found_count: 0, due: true })
    })

    it('refuses a reference longer than GameSO\'s, and answers 503 without a GameSO key', async () => {
      const long = await app.inject({ method: 'POST', url: `/v1/orders/${'r'.repeat(256)}/track`, headers })
      expect(long.statusCode).toBe(400)
      expect(long.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
      const unconfigured = await startApp({ GAMESO_API_KEY: '' })
      const response = await unconfigured.inject({ method: 'POST', url: '/v1/orders/ref-track-off/track', headers })
      expect(response.statusCode).toBe(503)
      expect(response.json()).toMatchObject({ code: 'GAMESO_NOT_CONFIGURED' })
      expect(await row('ref-track-off')).toBeUndefined()
    })
  })

  describe('POST /v1/orders/{reference_id}/sync', () => {
    it('fetches an order the mirror does not have, stores it (source manual) and returns it', async () => {
      gameso.orders.set('ref-sync-new', gamesoOrder('ref-sync-new', 'completed', '2026-05-02T00:00:00.000Z'))
      const response = await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-new/sync', headers })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ reference_id: 'ref-sync-new', status: 'completed', completed_at: '2026-05-02T00:00:00.000Z' })
      expect(await row('ref-sync-new')).toMatchObject({ status: 'completed', reconcile_state: 'final', history: [[null, 'completed', 'manual']] })
    })

    it('settles a tie the merge could not: GameSO\'s answer wins at an equal clock', async () => {
      gameso.orders.set('ref-sync-tie', gamesoOrder('ref-sync-tie', 'completed', '2026-05-02T00:00:00.000Z'))
      await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-tie/sync', headers })
      gameso.orders.set('ref-sync-tie', gamesoOrder('ref-sync-tie', 'failed', '2026-05-02T00:00:00.000Z', { failure_code: 'ITEM_NOT_FOUND' }))
      const response = await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-tie/sync', headers })
      expect(response.json()).toMatchObject({ status: 'failed', failure_code: 'ITEM_NOT_FOUND' })
    })

    it('keeps the stored order when GameSO answers with an older one', async () => {
      gameso.orders.set('ref-sync-old', gamesoOrder('ref-sync-old', 'completed', '2026-05-02T00:00:05.000Z'))
      await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-old/sync', headers })
      gameso.orders.set('ref-sync-old', gamesoOrder('ref-sync-old', 'processing', '2026-05-02T00:00:01.000Z'))
      const response = await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-old/sync', headers })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ status: 'completed', updated_at: '2026-05-02T00:00:05.000Z' })
    })

    it('answers 404 NOT_FOUND when GameSO has no such order', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/orders/ref-sync-none/sync', headers })
      expect(response.statusCode).toBe(404)
      expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'GameSO has no order with reference_id ref-sync-none' })
      expect(await row('ref-sync-none')).toBeUndefined()
    })

    it.each([
      [500, 502, 'UPSTREAM_ERROR'],
      [403, 502, 'UPSTREAM_UNAUTHORIZED']
    ])('answers GameSO\'s %i as %i %s', async (upstreamStatus, status, code) => {
      const fresh = await startApp()
      gameso.onGet = () => ({ status: upstreamStatus, body: { status: upstreamStatus, code: 'X', message: 'x' } })
      const response = await fresh.inject({ method: 'POST', url: '/v1/orders/ref-sync-fail/sync', headers })
      expect(response.statusCode).toBe(status)
      expect(response.json()).toMatchObject({ status, code })
    })

    it('answers 504 when GameSO is too slow, and 503 without a GameSO key', async () => {
      const impatient = await startApp({ GAMESO_TIMEOUT_MS: '200' })
      gameso.onGet = () => ({ status: 404, body: { status: 404, code: 'NOT_FOUND', message: 'x' }, delayMs: 1500 })
      const slow = await impatient.inject({ method: 'POST', url: '/v1/orders/ref-sync-slow/sync', headers })
      expect(slow.statusCode).toBe(504)
      expect(slow.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
      const unconfigured = await startApp({ GAMESO_API_KEY: '' })
      const off = await unconfigured.inject({ method: 'POST', url: '/v1/orders/ref-sync-off/sync', headers })
      expect(off.statusCode).toBe(503)
      expect(off.json()).toMatchObject({ code: 'GAMESO_NOT_CONFIGURED' })
    })
  })
})
