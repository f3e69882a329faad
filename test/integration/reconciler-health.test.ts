import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const API_KEY = 'sim-key'

describe('reconciler in the app: readiness and metrics', () => {
  let database: TestDatabase
  let simulator: RunningSimulator
  const apps: FastifyInstance[] = []

  async function app (overrides: Record<string, string>) {
    const built = await buildApp(testConfig(database.url, overrides), { db: database.db })
    apps.push(built)
    await built.ready()
    return built
  }

  async function readiness (built: FastifyInstance) {
    const response = await built.inject({ method: 'GET', url: '/health/ready' })
    return { status: response.statusCode, reconciler: response.json().checks.reconciler }
  }

  async function insertDue (reference: string, overdue: string) {
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at, tracking_since)
      VALUES ('gameso', $1, 'pending', 'pending', 1, 'create', now() - $2::interval, now() - interval '1 hour')`, [reference, overdue])
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulator({ apiKey: API_KEY, autoProgress: false })
  })

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((built) => built.close()))
    await database.db.pool.query('TRUNCATE orders, order_items, order_status_history, webhook_inbox')
  })

  afterAll(async () => {
    await simulator.close()
    await database.drop()
  })

  it.each([
    [{ RECONCILE_ENABLED: 'false', GAMESO_API_KEY: API_KEY }, 'RECONCILE_ENABLED is false'],
    [{ RECONCILE_ENABLED: 'true' }, 'GAMESO_API_KEY is not set; MIDASBUY_APP_ID, MIDASBUY_MERCHANT_PRIVATE_KEY and MIDASBUY_CERT_SERIAL_NO are not set']
  ])('reports disabled (%j) with the backlog, and stays ready', async (overrides, reason) => {
    await insertDue('waiting-1', '10 minutes')
    await insertDue('given-up-1', '1 day')
    await database.db.pool.query("UPDATE orders SET reconcile_state = 'abandoned', next_poll_at = NULL WHERE reference = 'given-up-1'")
    const built = await app(overrides)
    expect(built.reconciler).toBeNull()
    const { status, reconciler } = await readiness(built)
    expect(status).toBe(200)
    expect(reconciler).toMatchObject({ ready: true, state: 'disabled', reason, due: 1, waiting: 0, unresolved: { abandoned: 1, notFoundUpstream: 0 } })
    expect(reconciler.overdueSeconds).toBeGreaterThanOrEqual(600)
    // Followed for an hour when inserted, and no longer than the database says now: bounds from
    // the one clock the age is measured on, whatever the machine's load.
    const { rows: [after] } = await database.db.pool.query<{ age: number }>(
      "SELECT extract(epoch FROM now() - tracking_since)::float8 AS age FROM orders WHERE reference = 'waiting-1'")
    expect(reconciler.oldestUnreconciledAgeSeconds).toBeGreaterThanOrEqual(3600)
    expect(reconciler.oldestUnreconciledAgeSeconds).toBeLessThanOrEqual(Math.ceil(after?.age ?? 0))
    expect(reconciler.lastSuccessfulPollAt).toEqual({ gameso: null, midasbuy: null })
    const metrics = (await built.inject({ method: 'GET', url: '/metrics' })).body
    const oldest = /^order_mirror_reconcile_oldest_unreconciled_age_seconds\{provider="gameso"\} (\S+)$/m.exec(metrics)
    expect(Number(oldest?.[1])).toBeGreaterThanOrEqual(3600)
  })

  it('runs on start, heals a stale order and counts the poll and the upstream call', async () => {
    simulator.control.seedOrders([{ reference_id: 'heal-app-1', status: 'completed' }])
    await insertDue('heal-app-1', '1 second')
    const startedAt = Date.now()
    const built = await app({ RECONCILE_ENABLED: 'true', GAMESO_API_KEY: API_KEY, GAMESO_BASE_URL: simulator.url, RECONCILE_INTERVAL_MS: '100' })
    expect(built.reconciler?.running).toBe(true)
    for (;;) {
      const { rows } = await database.db.pool.query("SELECT reconcile_state FROM orders WHERE reference = 'heal-app-1'")
      // The poll is counted (and remembered as answered) just after its result is written: wait for both.
      if (rows[0].reconcile_state === 'final' && built.reconciler?.lastSuccessfulPoll.size === 1) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const { status, reconciler } = await readiness(built)
    expect(status).toBe(200)
    expect(reconciler).toMatchObject({ ready: true, state: 'running', reason: null, due: 0, oldestUnreconciledAgeSeconds: null, upstream: { pausedForMs: 0 } })
    expect(reconciler.lastClaimAt).toEqual(expect.any(String))
    expect(reconciler.lastSuccessfulPollAt).toEqual({ gameso: expect.any(String), midasbuy: null })
    // The loop keeps claiming every 100 ms, so a later claim may follow the poll: only this run's start bounds it.
    expect(Date.parse(reconciler.lastSuccessfulPollAt.gameso)).toBeGreaterThanOrEqual(startedAt)

    const metrics = (await built.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('order_mirror_reconcile_polls_total{provider="gameso",result="applied"} 1')
    expect(metrics).toContain('order_mirror_upstream_requests_total{provider="gameso",operation="get_order",status="200"} 1')
    expect(metrics).toMatch(/order_mirror_upstream_request_seconds_count\{provider="gameso",operation="get_order"\} 1/)
  })

  it('reports lagging when an order is overdue for long, without making the service unready', async () => {
    // A long interval: the loop claims once at start, then sleeps while the order below waits.
    const built = await app({ RECONCILE_ENABLED: 'true', GAMESO_API_KEY: API_KEY, GAMESO_BASE_URL: simulator.url, RECONCILE_INTERVAL_MS: '600000' })
    while (built.reconciler?.lastClaim === null) await new Promise((resolve) => setTimeout(resolve, 10))
    // Lagging means overdue by more than five intervals (here 50 minutes), and at least a minute.
    await insertDue('late-1', '2 hours')
    const { status, reconciler } = await readiness(built)
    expect(status).toBe(200)
    expect(reconciler).toMatchObject({ ready: true, state: 'lagging', due: 1 })
    expect(reconciler.overdueSeconds).toBeGreaterThanOrEqual(7200)
  })
})
