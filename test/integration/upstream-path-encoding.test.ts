import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { Reconciler } from '../../src/reconciler/reconciler.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder } from '../helpers/gameso-webhooks.js'

// Whatever a merchant puts in a reference, the mirror's call to GameSO keeps GameSO's host and the
// path /v1/orders/<that one reference, percent-encoded>. Checked against a real HTTP server that
// records the request line exactly as it arrived.

const API_KEY = 'merchant-key'
const ORDERS_PREFIX = '/v1/orders/'

interface Arrival { url: string, host: string | undefined }

describe('references in upstream paths', () => {
  let database: TestDatabase
  let upstream: FastifyInstance
  let upstreamHost: string
  let app: FastifyInstance
  let arrivals: Arrival[] = []
  /** A body the upstream answers instead of the order, to check what the mirror does with it. */
  let answerOverride: string | null = null

  beforeAll(async () => {
    database = await createTestDatabase()
    upstream = Fastify()
    // Any method, any path: every request is recorded, and a GET under /v1/orders/ answers the
    // order whose reference is the decoded last segment (what GameSO would look up).
    upstream.setNotFoundHandler(async (request, reply) => {
      arrivals.push({ url: request.raw.url ?? '', host: request.headers.host })
      const raw = request.raw.url ?? ''
      if (!raw.startsWith(ORDERS_PREFIX)) return reply.code(404).send({ status: 404, code: 'NOT_FOUND', message: 'no route' })
      const reference = decodeURIComponent(raw.slice(ORDERS_PREFIX.length))
      if (answerOverride !== null) return reply.type('application/json').send(answerOverride)
      return gamesoOrder(reference, 'completed', '2026-05-01T10:00:00.000Z')
    })
    await upstream.listen({ port: 0, host: '127.0.0.1' })
    upstreamHost = `127.0.0.1:${(upstream.server.address() as AddressInfo).port}`

    app = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      GAMESO_BASE_URL: `http://${upstreamHost}`,
      GAMESO_API_KEY: 'mirror-key',
      GAMESO_MAX_REQUESTS_PER_SECOND: '1000'
    }), { db: database.db })
    await app.listen({ port: 0, host: '127.0.0.1' })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
    await database.drop()
  })

  // Every test starts from a mirror that holds no order: one a test before stored would be answered
  // locally, and GameSO would not be asked.
  beforeEach(async () => {
    arrivals = []
    answerOverride = null
    await database.db.pool.query('TRUNCATE orders CASCADE')
  })

  function merchant (method: 'GET' | 'POST', path: string) {
    return app.inject({ method, url: path, headers: { 'x-api-key': API_KEY } })
  }

  /** Sends a request line exactly as written: no client-side URL normalisation. */
  function rawRequest (path: string): Promise<{ status: number, body: string }> {
    const { port } = app.server.address() as AddressInfo
    return new Promise((resolve, reject) => {
      const sent = httpRequest({ host: '127.0.0.1', port, path, headers: { 'x-api-key': API_KEY } }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => { body += chunk })
        response.on('end', () => { resolve({ status: response.statusCode ?? 0, body }) })
      })
      sent.on('error', reject)
      sent.end()
    })
  }

  const references = ['..%2F', '%2F', '?', '#', '../x', 'a/../../admin', 'a?b=c#d', '%2e%2e', '. .', 'ref with spaces', '\u00e9\u4e2d\uD83D\uDE00']

  it.each(references)('read-through of %j asks GameSO for that reference, on its host, at the encoded path', async (reference) => {
    const response = await merchant('GET', `${ORDERS_PREFIX}${encodeURIComponent(reference)}`)
    expect(response.statusCode).toBe(200)
    expect(response.json().reference_id).toBe(reference)
    expect(arrivals).toEqual([{ url: `${ORDERS_PREFIX}${encodeURIComponent(reference)}`, host: upstreamHost }])
  })

  it.each(references)('sync of %j does the same', async (reference) => {
    const response = await merchant('POST', `${ORDERS_PREFIX}${encodeURIComponent(reference)}/sync`)
    expect(response.statusCode).toBe(200)
    expect(response.json().reference_id).toBe(reference)
    expect(arrivals).toEqual([{ url: `${ORDERS_PREFIX}${encodeURIComponent(reference)}`, host: upstreamHost }])
  })

  it('track: the reconciler polls each tracked reference at its encoded path', async () => {
    for (const reference of references) {
      const response = await merchant('POST', `${ORDERS_PREFIX}${encodeURIComponent(`track-${reference}`)}/track`)
      expect([200, 202]).toContain(response.statusCode)
    }
    const gameso = app.upstreams.get('gameso')
    if (gameso === null) throw new Error('the GameSO client is configured in this test')
    const reconciler = new Reconciler({
      instanceId: 'path-test',
      intervalMs: 100,
      staleAfterMs: 60_000,
      maxBackoffMs: 60_000,
      giveUpAfterMs: 3_600_000,
      batchSize: 100,
      notFoundLimit: 3
    }, { db: database.db, upstreams: [{ connection: gameso, leaseMs: 30_000 }], sync: new OrderSync(database.db, 60_000), metrics: app.metrics, log: pino({ level: 'silent' }) })
    await reconciler.tick()
    const expected = references.map((reference) => ({ url: `${ORDERS_PREFIX}${encodeURIComponent(`track-${reference}`)}`, host: upstreamHost }))
    expect([...arrivals].sort((a, b) => a.url.localeCompare(b.url))).toEqual(expected.sort((a, b) => a.url.localeCompare(b.url)))
  })

  it.each([
    ['/v1/orders/.', 'params.reference_id: must not be "." or ".."'],
    ['/v1/orders/..', 'params.reference_id: must not be "." or ".."'],
    ['/v1/orders/%2e', 'params.reference_id: must not be "." or ".."'],
    ['/v1/orders/%2E%2E', 'params.reference_id: must not be "." or ".."'],
    ['/v1/orders/a%00b', 'params.reference_id: must not contain a NUL character (U+0000)'],
    ['/v1/orders/a%0Ab', 'params.reference_id: must not contain the control character U+000A'],
    ['/v1/orders/./history', 'params.reference_id: must not be "." or ".."'],
    ['/v1/midasbuy/orders/..', 'params.payment_order_id: must not be "." or ".."'],
    ['/v1/midasbuy/orders/%00', 'params.payment_order_id: must not contain a NUL character (U+0000)']
  ])('%s is refused with 400 naming the field, and GameSO is not asked', async (path, message) => {
    const response = await rawRequest(path)
    expect(response.status).toBe(400)
    expect(JSON.parse(response.body)).toEqual({ status: 400, code: 'VALIDATION_ERROR', message })
    expect(arrivals).toEqual([])
  })

  it('a GameSO answer PostgreSQL could not store is an unusable answer (502), not a 500', async () => {
    answerOverride = JSON.stringify(gamesoOrder('nul-answer', 'completed', '2026-05-01T10:00:00.000Z', { overrides: { user_id: 'a\u0000b' } }))
    const response = await merchant('GET', `${ORDERS_PREFIX}nul-answer`)
    expect(response.statusCode).toBe(502)
    expect(response.json()).toEqual({ status: 502, code: 'UPSTREAM_INVALID_RESPONSE', message: expect.any(String) })
    const { rows } = await database.db.pool.query('SELECT count(*)::int AS count FROM orders WHERE reference = $1', ['nul-answer'])
    expect(rows[0].count).toBe(0)
  })
})
