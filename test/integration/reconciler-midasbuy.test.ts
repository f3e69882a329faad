import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { midasbuyOrderToSnapshot } from '../../src/providers/midasbuy/midasbuy-mapping.js'
import { midasbuyOrderSchema } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { Reconciler } from '../../src/reconciler/reconciler.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'

// MidasBuy orders reconciled by OrderQuery through the same claim, lease, backoff and merge as
// GameSO's, against the simulated MidasBuy over real HTTP (signed requests, verified there).

const keyPair = () => generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const merchant = keyPair()
const stranger = keyPair()
const silent = pino({ level: 'silent' })

describe('MidasBuy reconciliation by OrderQuery', () => {
  let database: TestDatabase
  let simulator: RunningSimulator
  const apps: FastifyInstance[] = []
  const reconcilers: Reconciler[] = []

  async function app (overrides: Record<string, string> = {}) {
    const built = await buildApp(testConfig(database.url, {
      API_KEYS: 'merchant-key',
      MIDASBUY_BASE_URL: simulator.url,
      MIDASBUY_APP_ID: simulator.controls.midasbuy.appId,
      MIDASBUY_CERT_SERIAL_NO: 'CERT-1',
      MIDASBUY_MERCHANT_PRIVATE_KEY: merchant.privateKey,
      MIDASBUY_MAX_REQUESTS_PER_SECOND: '1000',
      RECONCILE_STALE_AFTER_MS: '1000',
      ...overrides
    }), { db: database.db })
    apps.push(built)
    await built.ready()
    return built
  }

  /** A reconciler over the app's own MidasBuy connection, driven by tick(). */
  function reconciler (built: FastifyInstance, instanceId = 'test-instance', batchSize = 50) {
    const connection = built.upstreams.get('midasbuy')
    if (connection === null) throw new Error('MidasBuy is configured in this test')
    const created = new Reconciler({
      instanceId, intervalMs: 100, staleAfterMs: 1000, maxBackoffMs: 8000, giveUpAfterMs: 3_600_000, batchSize, notFoundLimit: 2
    }, { db: database.db, upstreams: [{ connection, leaseMs: 30_000 }], sync: built.orderSync, metrics: built.metrics, log: silent, random: () => 1 })
    reconcilers.push(created)
    return created
  }

  async function row (reference: string) {
    const result = await database.db.pool.query("SELECT * FROM orders WHERE provider = 'midasbuy' AND reference = $1", [reference])
    return result.rows[0]
  }

  /** MidasBuy holds the order in `upstream` status; the mirror holds it `local` and earlier, due for a poll. */
  async function staleOrder (built: FastifyInstance, reference: string, upstream: 'Paid' | 'Finished' | 'Refunded', local: 'Created' | 'Paid' = 'Created') {
    const [seeded] = simulator.controls.midasbuy.seedOrders([{
      payment_order_id: reference, status: upstream, create_time: '2026-05-01T00:00:00Z', update_time: '2026-05-01T00:10:00Z'
    }])
    const truth = midasbuyOrderSchema.parse(seeded)
    await built.orderSync.applySnapshot(midasbuyOrderToSnapshot({ ...truth, order_status: local, update_time: '2026-05-01T00:01:00Z' }), { source: 'webhook' })
    await database.db.pool.query("UPDATE orders SET next_poll_at = now() - interval '1 second' WHERE provider = 'midasbuy' AND reference = $1", [reference])
    return truth
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulator({
      seed: 11,
      midasbuy: { merchantPublicKey: merchant.publicKey, platformPrivateKey: midasbuyKeys.privateKey, autoProgress: false, refundRate: 0 }
    })
  })

  afterEach(async () => {
    await Promise.all(reconcilers.splice(0).map((created) => created.stop()))
    await Promise.all(apps.splice(0).map((built) => built.close()))
    await database.db.pool.query('TRUNCATE orders, order_items, order_status_history, webhook_inbox')
  })

  afterAll(async () => {
    await simulator.close()
    await database.drop()
  })

  it.each([
    ['Created', 'Paid', 'active'],
    ['Created', 'Finished', 'final'],
    ['Paid', 'Refunded', 'final']
  ] as const)('heals a %s order that MidasBuy has as %s (poll source, reconcile state %s)', async (local, upstream, state) => {
    const built = await app()
    const reference = `SG-HEAL-${local}-${upstream}`
    const truth = await staleOrder(built, reference, upstream, local)
    expect(await reconciler(built).tick()).toEqual({ claimed: 1, results: { applied: 1 } })
    expect(await row(reference)).toMatchObject({ provider_status: upstream, reconcile_state: state, last_source: 'poll' })
    const read = await built.inject({ method: 'GET', url: `/v1/midasbuy/orders/${reference}`, headers: { 'x-api-key': 'merchant-key' } })
    expect(read.json()).toEqual(truth)
    const metrics = (await built.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('order_mirror_reconcile_polls_total{provider="midasbuy",result="applied"} 1')
    expect(metrics).toContain('order_mirror_upstream_requests_total{provider="midasbuy",operation="order_query",status="200"} 1')
  })

  it('never claims a Finished or Refunded order, and a later Refunded notification still applies over Finished', async () => {
    const built = await app()
    const truth = await staleOrder(built, 'SG-FINAL-1', 'Finished')
    await reconciler(built).tick()
    expect(await row('SG-FINAL-1')).toMatchObject({ provider_status: 'Finished', reconcile_state: 'final', next_poll_at: null })
    expect(await reconciler(built).tick()).toEqual({ claimed: 0, results: {} })
    const refunded = await built.orderSync.applySnapshot(
      midasbuyOrderToSnapshot({ ...truth, order_status: 'Refunded', update_time: '2026-05-01T00:20:00Z' }), { source: 'webhook' })
    expect(refunded.decision).toBe('apply')
    expect(await row('SG-FINAL-1')).toMatchObject({ provider_status: 'Refunded', status: 'refunded' })
  })

  it('counts an order MidasBuy does not know as not_found, and gives it up after RECONCILE_NOT_FOUND_LIMIT polls', async () => {
    const built = await app()
    await built.orderCommands.track('midasbuy', 'SG-GHOST-1')
    expect(await row('SG-GHOST-1')).toMatchObject({ provider_status: 'Created', status: 'pending', reconcile_state: 'active' })
    expect((await reconciler(built).tick()).results).toEqual({ not_found: 1 })
    await database.db.pool.query("UPDATE orders SET next_poll_at = now() WHERE reference = 'SG-GHOST-1'")
    expect((await reconciler(built).tick()).results).toEqual({ not_found: 1 })
    expect(await row('SG-GHOST-1')).toMatchObject({ reconcile_state: 'not_found_upstream', not_found_count: 2 })
  })

  it('surfaces a request signature MidasBuy refuses as a clear poll error and metric, and backs off', async () => {
    const built = await app({ MIDASBUY_MERCHANT_PRIVATE_KEY: stranger.privateKey })
    await staleOrder(built, 'SG-BADSIG-1', 'Paid')
    const refusedBefore = simulator.controls.midasbuy.stats().signatures.refused.mismatch
    expect((await reconciler(built).tick()).results).toEqual({ error: 1 })
    const stored = await row('SG-BADSIG-1')
    expect(stored).toMatchObject({ provider_status: 'Created', reconcile_state: 'active', poll_attempts: 1 })
    expect(stored.last_poll_error).toMatch(/MidasBuy refused the mirror's request signature or app id \(401 UNAUTHENTICATED.*check MIDASBUY_APP_ID/)
    expect(stored.next_poll_at.getTime()).toBeGreaterThan(Date.now())
    expect(simulator.controls.midasbuy.stats().signatures.refused.mismatch).toBe(refusedBefore + 1)
    const metrics = (await built.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('order_mirror_reconcile_polls_total{provider="midasbuy",result="error"} 1')
    expect(metrics).toContain('order_mirror_upstream_requests_total{provider="midasbuy",operation="order_query",status="401"} 1')
  })

  it('two instances claim disjoint MidasBuy orders: each is asked about once, never twice at a time', async () => {
    const built = await app()
    const references = Array.from({ length: 60 }, (_unused, index) => `SG-PAIR-${index}`)
    for (const reference of references) await staleOrder(built, reference, 'Finished', 'Paid')
    simulator.controls.midasbuy.resetStats()
    const [one, two] = await Promise.all([reconciler(built, 'one', 40).tick(), reconciler(built, 'two', 40).tick()])
    expect((one?.claimed ?? 0) + (two?.claimed ?? 0)).toBe(60)
    const { api } = simulator.controls.midasbuy.stats()
    expect(api.maxConcurrentGetsPerReference).toBe(1)
    expect(Object.keys(api.getsByReference).sort()).toEqual([...references].sort())
    expect(Object.values(api.getsByReference).every((count) => count === 1)).toBe(true)
  })

  it('reports each provider in readiness: MidasBuy running, GameSO disabled with its reason', async () => {
    const built = await app({ RECONCILE_ENABLED: 'true', RECONCILE_INTERVAL_MS: '600000' })
    while (built.reconciler?.lastClaim === null) await new Promise((resolve) => setTimeout(resolve, 10))
    const response = await built.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    const report = response.json().checks.reconciler
    expect(report).toMatchObject({
      ready: true,
      state: 'running',
      reason: null,
      providers: {
        midasbuy: { state: 'running', reason: null, lastClaimAt: expect.any(String), upstream: { pausedForMs: 0 } },
        gameso: { state: 'disabled', reason: 'GAMESO_API_KEY is not set', lastClaimAt: null, upstream: null }
      }
    })
    expect(built.reconciler?.providers).toEqual(['midasbuy'])
  })
})
