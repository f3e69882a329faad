import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'
import { startSimulatorProcess, type SimulatorProcess } from '../helpers/simulator-process.js'

const ORDERS = 500

interface SimulatorStats {
  api: {
    total: number
    byRoute: Record<string, Record<string, number>>
    getsByReference: Record<string, number>
    maxConcurrentGetsPerReference: number
  }
}

interface SimulatorOrder {
  reference_id: string
  status: string
  updated_at: string
}

function appliedPolls (metrics: string): number {
  const match = /^order_mirror_reconcile_polls_total\{provider="gameso",result="applied"\} (\d+)$/m.exec(metrics)
  return Number(match?.[1] ?? 0)
}

describe('two service instances reconciling the same stale orders', () => {
  let database: TestDatabase
  let simulator: SimulatorProcess
  const services: ServiceProcess[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulatorProcess({ SIMULATOR_SEED: '500', SIMULATOR_AUTO_PROGRESS: 'false' })
    const env = {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      GAMESO_BASE_URL: simulator.url,
      GAMESO_API_KEY: simulator.apiKey,
      GAMESO_MAX_REQUESTS_PER_SECOND: '100',
      GAMESO_MAX_CONCURRENCY: '4',
      RECONCILE_ENABLED: 'true',
      RECONCILE_INTERVAL_MS: '100',
      // Small batches, so the two instances' claims interleave over the same due set.
      RECONCILE_BATCH_SIZE: '20'
    }
    services.push(...await Promise.all([
      startService({ ...env, INSTANCE_ID: 'alpha' }),
      startService({ ...env, INSTANCE_ID: 'beta' })
    ]))
  })

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()))
    await simulator?.stop()
    await database?.drop()
  })

  it('never poll one order twice at the same time, and together bring every order to GameSO\'s state', async () => {
    const references = Array.from({ length: ORDERS }, (_unused, index) => `stale-${index}`)
    await simulator.control('POST', '/_control/orders', {
      orders: references.map((reference, index) => ({
        reference_id: reference,
        status: index % 5 === 0 ? 'failed' : 'completed',
        items: [{ sku: 'DIAMOND_100', quantity: 2 }]
      }))
    })
    // Answers held back a little, so two polls of one order would overlap at the simulator.
    await simulator.control('POST', '/_control/faults', { slowMs: 20 })
    await simulator.control('POST', '/_control/reset')
    // The mirror saw these orders pending long ago and missed every webhook since.
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source,
        upstream_updated_at, next_poll_at, tracking_since)
      SELECT 'gameso', reference, 'pending', 'pending', 1, 'webhook', '2026-01-01T00:00:00Z', now(), now() - interval '10 minutes'
        FROM unnest($1::text[]) AS reference`, [references])

    const deadline = Date.now() + 45_000
    let final = 0
    while (Date.now() < deadline) {
      const { rows } = await database.db.pool.query<{ final: number }>("SELECT count(*)::int AS final FROM orders WHERE reconcile_state = 'final'")
      final = rows[0]?.final ?? 0
      if (final === ORDERS) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(final).toBe(ORDERS)

    const stats = await simulator.control<SimulatorStats>('GET', '/_control/stats')
    expect(stats.api.maxConcurrentGetsPerReference).toBe(1)
    // Disjoint claims: each order was asked about exactly once, by one instance or the other.
    expect(Object.keys(stats.api.getsByReference).sort()).toEqual([...references].sort())
    expect(Object.values(stats.api.getsByReference).every((count) => count === 1)).toBe(true)
    expect(stats.api.byRoute['GET /v1/orders/:reference_id']).toEqual({ 200: ORDERS })

    const perInstance = await Promise.all(services.map(async (service) => appliedPolls(await (await fetch(`${service.url}/metrics`)).text())))
    expect(perInstance.every((polls) => polls > 0)).toBe(true)
    expect(perInstance[0]! + perInstance[1]!).toBe(ORDERS)

    const truth = await simulator.control<{ orders: SimulatorOrder[] }>('GET', '/_control/orders')
    const { rows } = await database.db.pool.query<{ reference: string, status: string, upstream_updated_at: Date }>(
      'SELECT reference, status, upstream_updated_at FROM orders')
    const stored = new Map(rows.map((row) => [row.reference, row]))
    for (const order of truth.orders) {
      expect(stored.get(order.reference_id)?.status).toBe(order.status)
      expect(stored.get(order.reference_id)?.upstream_updated_at.toISOString()).toBe(order.updated_at)
    }
  })
})
