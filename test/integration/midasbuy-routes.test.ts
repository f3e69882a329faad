import { generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { midasbuyOrderSchema } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { hostileJsonText, withHostile } from '../helpers/hostile-values.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'
import { propertyParameters } from '../helpers/property.js'

// The MidasBuy merchant commands (track, sync) and the OrderQuery drop-in, against a real
// PostgreSQL and the simulated MidasBuy over real HTTP (signed OrderQuery requests, verified there).

const merchant = generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const API_KEY = 'merchant-key'
const auth = { 'x-api-key': API_KEY }
const midasbuyError = (name: string, debugId: unknown = expect.any(String)) => ({ name, message: expect.any(String), debug_id: debugId })

describe('MidasBuy merchant routes', () => {
  let database: TestDatabase
  let simulator: RunningSimulator
  const apps: FastifyInstance[] = []

  async function app (overrides: Record<string, string> = {}, configured = true) {
    const built = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      RATE_LIMIT_MAX: '1000000',
      ...(configured
        ? {
            MIDASBUY_BASE_URL: simulator.url,
            MIDASBUY_APP_ID: simulator.controls.midasbuy.appId,
            MIDASBUY_CERT_SERIAL_NO: 'CERT-1',
            MIDASBUY_MERCHANT_PRIVATE_KEY: merchant.privateKey,
            MIDASBUY_MAX_REQUESTS_PER_SECOND: '1000'
          }
        : {}),
      ...overrides
    }), { db: database.db })
    apps.push(built)
    await built.ready()
    return built
  }

  function seed (paymentOrderId: string, status: 'Created' | 'Paid' | 'Finished' = 'Paid') {
    const [seeded] = simulator.controls.midasbuy.seedOrders([{
      payment_order_id: paymentOrderId, status, create_time: '2026-05-01T00:00:00Z', update_time: '2026-05-01T00:10:00Z'
    }])
    return midasbuyOrderSchema.parse(seeded)
  }

  async function row (paymentOrderId: string) {
    const result = await database.db.pool.query("SELECT * FROM orders WHERE provider = 'midasbuy' AND reference = $1", [paymentOrderId])
    return result.rows[0]
  }

  const orderQuery = (built: FastifyInstance, payload: unknown, headers: Record<string, string> = auth) =>
    built.inject({ method: 'POST', url: '/midasbuy/v2/orders', headers: { 'content-type': 'application/json', ...headers }, payload: payload as string })

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulator({
      seed: 12,
      midasbuy: { merchantPublicKey: merchant.publicKey, platformPrivateKey: midasbuyKeys.privateKey, autoProgress: false, refundRate: 0 }
    })
  })

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((built) => built.close()))
    simulator.controls.midasbuy.clearFaults()
    simulator.controls.midasbuy.clearOrders()
    await database.db.pool.query('TRUNCATE orders, order_items, order_status_history, webhook_inbox')
  })

  afterAll(async () => {
    await simulator.close()
    await database.drop()
  })

  describe('POST /v1/midasbuy/orders/{payment_order_id}/track', () => {
    it('starts following an unknown id (202, no order yet), then answers 200 unchanged', async () => {
      const built = await app()
      const first = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-1/track', headers: auth })
      expect(first.statusCode).toBe(202)
      expect(first.json()).toEqual({ payment_order_id: 'SG-TRACK-1', tracking: 'started', reconcile_state: 'active', order: null })
      expect(await row('SG-TRACK-1')).toMatchObject({ provider_status: 'Created', reconcile_state: 'active', upstream_updated_at: null })
      expect((await row('SG-TRACK-1')).next_poll_at).not.toBeNull()

      const again = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-1/track', headers: auth })
      expect(again.statusCode).toBe(200)
      expect(again.json()).toEqual({ payment_order_id: 'SG-TRACK-1', tracking: 'unchanged', reconcile_state: 'active', order: null })
    })

    it('shows the order in OrderQuery\'s shape once MidasBuy has reported it, and resumes an abandoned one (202)', async () => {
      const built = await app()
      const truth = seed('SG-TRACK-2')
      expect((await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-2/sync', headers: auth })).statusCode).toBe(200)
      const known = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-2/track', headers: auth })
      expect(known.statusCode).toBe(200)
      expect(known.json()).toEqual({ payment_order_id: 'SG-TRACK-2', tracking: 'unchanged', reconcile_state: 'active', order: truth })

      await database.db.pool.query("UPDATE orders SET reconcile_state = 'abandoned', next_poll_at = NULL WHERE provider = 'midasbuy' AND reference = 'SG-TRACK-2'")
      const resumed = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-2/track', headers: auth })
      expect(resumed.statusCode).toBe(202)
      expect(resumed.json()).toMatchObject({ tracking: 'resumed', reconcile_state: 'active', order: truth })
    })

    it('refuses when MidasBuy is not configured (503) and a bad id (400), storing nothing', async () => {
      const built = await app({}, false)
      const refused = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-TRACK-3/track', headers: auth })
      expect(refused.statusCode).toBe(503)
      expect(refused.json()).toEqual({ status: 503, code: 'MIDASBUY_NOT_CONFIGURED', message: expect.stringContaining('MidasBuy is not configured') })
      const bad = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/%00/track', headers: auth })
      expect(bad.statusCode).toBe(400)
      expect(bad.json()).toEqual({ status: 400, code: expect.any(String), message: expect.any(String) })
      expect((await database.db.pool.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(0)
    })
  })

  describe('POST /v1/midasbuy/orders/{payment_order_id}/sync', () => {
    it('fetches by OrderQuery, applies it as manual and returns MidasBuy\'s JSON; a later change is applied over the stored one', async () => {
      const built = await app()
      const truth = seed('SG-SYNC-1', 'Paid')
      const synced = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-SYNC-1/sync', headers: auth })
      expect(synced.statusCode).toBe(200)
      expect(synced.json()).toEqual(truth)
      expect(await row('SG-SYNC-1')).toMatchObject({ provider_status: 'Paid', last_source: 'manual' })

      const finished = midasbuyOrderSchema.parse(simulator.controls.midasbuy.advance('SG-SYNC-1'))
      const again = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-SYNC-1/sync', headers: auth })
      expect(again.json()).toEqual(finished)
      expect(finished.order_status).toBe('Finished')
      expect(await row('SG-SYNC-1')).toMatchObject({ provider_status: 'Finished', reconcile_state: 'final' })
    })

    it('maps MidasBuy\'s failures as GameSO\'s sync does: 404 unknown, 502 upstream error, 503 not configured; nothing stored', async () => {
      const built = await app()
      const unknown = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-NOWHERE/sync', headers: auth })
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'MidasBuy has no order with payment_order_id SG-NOWHERE' })

      seed('SG-SYNC-2')
      simulator.controls.midasbuy.setFaults({ errorRate: 1 })
      const failing = await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-SYNC-2/sync', headers: auth })
      expect(failing.statusCode).toBe(502)
      expect(failing.json()).toEqual({ status: 502, code: expect.stringMatching(/^UPSTREAM_/), message: expect.any(String) })
      expect(await row('SG-SYNC-2')).toBeUndefined()

      const unconfigured = await app({}, false)
      const refused = await unconfigured.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-SYNC-2/sync', headers: auth })
      expect(refused.statusCode).toBe(503)
      expect(refused.json()).toMatchObject({ status: 503, code: 'MIDASBUY_NOT_CONFIGURED' })
    })
  })

  describe('POST /midasbuy/v2/orders (OrderQuery drop-in)', () => {
    it('answers MidasBuy\'s OrderQuery JSON: read-through on a miss (stored), then from the mirror alone', async () => {
      const built = await app()
      const truth = seed('SG-OQ-1')
      const missed = await orderQuery(built, { id: 'SG-OQ-1' })
      expect(missed.statusCode).toBe(200)
      expect(missed.json()).toEqual(truth)
      expect(await row('SG-OQ-1')).toMatchObject({ provider_status: 'Paid', last_source: 'poll' })

      simulator.controls.midasbuy.clearOrders()
      const local = await orderQuery(built, { id: 'SG-OQ-1' })
      expect(local.statusCode).toBe(200)
      expect(local.json()).toEqual(truth)
      // The same bytes the GET route answers with.
      expect(local.body).toBe((await built.inject({ method: 'GET', url: '/v1/midasbuy/orders/SG-OQ-1', headers: auth })).body)
    })

    it('NOT_FOUND 404 for an id nobody knows or only tracked, with the request id as debug_id', async () => {
      const built = await app()
      const unknown = await orderQuery(built, { id: 'SG-OQ-NONE' }, { ...auth, 'x-request-id': 'req-oq-404' })
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json()).toEqual({ name: 'NOT_FOUND', message: 'No payment order with id SG-OQ-NONE', debug_id: 'req-oq-404' })
      expect(await row('SG-OQ-NONE')).toBeUndefined()

      await built.inject({ method: 'POST', url: '/v1/midasbuy/orders/SG-OQ-TRACKED/track', headers: auth })
      const tracked = await orderQuery(built, { id: 'SG-OQ-TRACKED' })
      expect(tracked.statusCode).toBe(404)
      expect(tracked.json()).toEqual(midasbuyError('NOT_FOUND'))
    })

    it('UNAUTHENTICATED 401 without a key or with a wrong one, before anything is read', async () => {
      const built = await app()
      seed('SG-OQ-2')
      const keys: Array<Record<string, string>> = [{}, { 'x-api-key': 'wrong-key' }, { 'x-api-key': '' }]
      for (const headers of keys) {
        const refused = await orderQuery(built, { id: 'SG-OQ-2' }, headers)
        expect(refused.statusCode).toBe(401)
        expect(refused.json()).toEqual(midasbuyError('UNAUTHENTICATED'))
      }
      expect(await row('SG-OQ-2')).toBeUndefined()
    })

    it('RESOURCE_EXHAUSTED 429 over the rate limit, in MidasBuy\'s shape with Retry-After', async () => {
      const built = await app({ RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' })
      expect((await orderQuery(built, { id: 'SG-OQ-3' })).statusCode).toBe(404)
      const limited = await orderQuery(built, { id: 'SG-OQ-3' })
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toEqual(midasbuyError('RESOURCE_EXHAUSTED'))
      expect(limited.headers['retry-after']).toBeDefined()
    })

    it('spends the same quota of a key as the /v1 routes: a key gets RATE_LIMIT_MAX, not twice it', async () => {
      const built = await app({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' })
      expect((await built.inject({ method: 'GET', url: '/v1/midasbuy/orders/SG-OQ-Q', headers: auth })).statusCode).toBe(404)
      expect((await orderQuery(built, { id: 'SG-OQ-Q' })).statusCode).toBe(404)
      const limitedHere = await orderQuery(built, { id: 'SG-OQ-Q' })
      expect(limitedHere.statusCode).toBe(429)
      expect(limitedHere.json()).toEqual(midasbuyError('RESOURCE_EXHAUSTED'))
      const limitedThere = await built.inject({ method: 'GET', url: '/v1/midasbuy/orders/SG-OQ-Q', headers: auth })
      expect(limitedThere.statusCode).toBe(429)
      expect(limitedThere.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    })

    it('UNAVAILABLE 502 when MidasBuy fails a read-through, nothing stored', async () => {
      const built = await app()
      seed('SG-OQ-4')
      simulator.controls.midasbuy.setFaults({ errorRate: 1 })
      const failing = await orderQuery(built, { id: 'SG-OQ-4' })
      expect(failing.statusCode).toBe(502)
      expect(failing.json()).toEqual(midasbuyError('UNAVAILABLE'))
      expect(await row('SG-OQ-4')).toBeUndefined()
    })

    it.each([
      ['bad JSON', '{"id": '],
      ['an array', '["SG-1"]'],
      ['a string', '"SG-1"'],
      ['null', 'null'],
      ['no id', '{}'],
      ['a number id', '{"id": 5}'],
      ['an empty id', '{"id": ""}'],
      ['a NUL in the id', '{"id": "SG\\u0000X"}'],
      ['a lone surrogate', '{"id": "SG\\ud800"}'],
      ['a dot-dot id', '{"id": ".."}'],
      ['an id too long', JSON.stringify({ id: 'S'.repeat(256) })]
    ])('INVALID_ARGUMENT 400 for %s', async (_kind, payload) => {
      const built = await app()
      const refused = await orderQuery(built, payload)
      expect(refused.statusCode).toBe(400)
      expect(refused.json()).toEqual(midasbuyError('INVALID_ARGUMENT'))
    })

    it('INVALID_ARGUMENT 400 for a body that is not JSON at all, or none', async () => {
      const built = await app()
      for (const request of [
        { headers: { ...auth, 'content-type': 'text/plain' }, payload: 'SG-1' },
        { headers: { ...auth } }
      ]) {
        const refused = await built.inject({ method: 'POST', url: '/midasbuy/v2/orders', ...request })
        expect(refused.statusCode).toBeGreaterThanOrEqual(400)
        expect(refused.statusCode).toBeLessThan(500)
        expect(refused.json()).toEqual(midasbuyError(expect.stringMatching(/^[A-Z_]+$/)))
      }
    })

    it('any hostile body: always a MidasBuy-shaped 4xx, never a 5xx, and nothing stored', async () => {
      const built = await app({}, false)
      const body = fc.oneof(
        hostileJsonText.map((text) => Buffer.from(text)),
        hostileJsonText.map((text) => withHostile({ id: '@@HOSTILE@@' }, text)),
        hostileJsonText.map((text) => withHostile({ id: 'SG-FUZZ', extra: '@@HOSTILE@@' }, text)),
        fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes))
      )
      await fc.assert(fc.asyncProperty(body, async (payload) => {
        const response = await orderQuery(built, payload)
        expect(response.statusCode).toBeGreaterThanOrEqual(400)
        expect(response.statusCode).toBeLessThan(500)
        expect(response.json()).toEqual({ name: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), debug_id: expect.any(String) })
      }), propertyParameters(80))
      expect((await database.db.pool.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(0)
    })
  })
})
