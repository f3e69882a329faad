import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { midasbuyServiceEnvironment } from '../helpers/mirror-stack.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'
import { startSimulatorProcess, type SimulatorProcess } from '../helpers/simulator-process.js'

const ORDERS = 500
const PAYMENT_ORDERS = 300

interface SimulatorStats {
  api: {
    total: number
    byRoute: Record<string, Record<string, number>>
    byStatus: Record<string, number>
    getsByReference: Record<string, number>
    maxConcurrentGetsPerReference: number
  }
}

interface SimulatorOrder {
  reference_id: string
  status: string
  updated_at: string
}

interface PaymentOrder {
  payment_order_id: string
  order_status: string
  update_time: string
}

function appliedPolls (metrics: string, provider: string): number {
  const match = new RegExp(`^order_mirror_reconcile_polls_total\\{provider="${provider}",result="applied"\\} (\\d+)$`, 'm').exec(metrics)
  return Number(match?.[1] ?? 0)
}

// Both instances serve both providers, on one database, against one simulator: each provider's
// case seeds its own stale orders and reads its own upstream's stats.
describe('two service instances reconciling the same stale orders', () => {
  let database: TestDatabase
  let simulator: SimulatorProcess
  const services: ServiceProcess[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulatorProcess({ SIMULATOR_SEED: '500', SIMULATOR_AUTO_PROGRESS: 'false', SIMULATOR_MIDASBUY_AUTO_PROGRESS: 'false' })
    const env = {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      GAMESO_BASE_URL: simulator.url,
      GAMESO_API_KEY: simulator.apiKey,
      GAMESO_MAX_REQUESTS_PER_SECOND: '100',
      GAMESO_MAX_CONCURRENCY: '4',
      ...await midasbuyServiceEnvironment(simulator),
      MIDASBUY_MAX_REQUESTS_PER_SECOND: '100',
      MIDASBUY_MAX_CONCURRENCY: '4',
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

  /**
   * The mirror saw these orders long ago, `pending` in the upstream's first status, and missed
   * every webhook since: both instances poll them, the upstream's answers held back a little so
   * two polls of one order would overlap there. Returns the upstream's stats once all are final,
   * checked for disjoint claims.
   */
  async function reconcileStale (provider: string, firstStatus: string, references: readonly string[]): Promise<SimulatorStats> {
    await simulator.control('POST', `/_control/${provider}/faults`, { slowMs: 20 })
    await simulator.control('POST', `/_control/${provider}/reset`)
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source,
        upstream_updated_at, next_poll_at, tracking_since)
      SELECT $1, reference, 'pending', $2, 1, 'webhook', '2026-01-01T00:00:00Z', now(), now() - interval '10 minutes'
        FROM unnest($3::text[]) AS reference`, [provider, firstStatus, references])
    expect(await untilFinal(provider, references.length)).toBe(references.length)
    const stats = await simulator.control<SimulatorStats>('GET', `/_control/${provider}/stats`)
    await expectDisjointPolls(provider, stats, references)
    return stats
  }

  async function untilFinal (provider: string, expected: number): Promise<number> {
    const deadline = Date.now() + 45_000
    let final = 0
    while (Date.now() < deadline) {
      const { rows } = await database.db.pool.query<{ final: number }>("SELECT count(*)::int AS final FROM orders WHERE provider = $1 AND reconcile_state = 'final'", [provider])
      final = rows[0]?.final ?? 0
      if (final === expected) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return final
  }

  /**
   * Disjoint claims, seen by the upstream: never two polls of one order at a time, each order
   * asked about exactly once, by one instance or the other, and both instances did some of it.
   */
  async function expectDisjointPolls (provider: string, stats: SimulatorStats, references: readonly string[]): Promise<void> {
    expect(stats.api.maxConcurrentGetsPerReference).toBe(1)
    expect(Object.keys(stats.api.getsByReference).sort()).toEqual([...references].sort())
    expect(Object.values(stats.api.getsByReference).every((count) => count === 1)).toBe(true)
    const perInstance = await Promise.all(services.map(async (service) => appliedPolls(await (await fetch(`${service.url}/metrics`)).text(), provider)))
    expect(perInstance.every((polls) => polls > 0)).toBe(true)
    expect(perInstance[0]! + perInstance[1]!).toBe(references.length)
  }

  async function storedOrders (provider: string) {
    const { rows } = await database.db.pool.query<{ reference: string, status: string, provider_status: string, upstream_updated_at: Date }>(
      'SELECT reference, status, provider_status, upstream_updated_at FROM orders WHERE provider = $1', [provider])
    return new Map(rows.map((row) => [row.reference, row]))
  }

  it('never poll one order twice at the same time, and together bring every order to GameSO\'s state', async () => {
    const references = Array.from({ length: ORDERS }, (_unused, index) => `stale-${index}`)
    await simulator.control('POST', '/_control/orders', {
      orders: references.map((reference, index) => ({
        reference_id: reference,
        status: index % 5 === 0 ? 'failed' : 'completed',
        items: [{ sku: 'DIAMOND_100', quantity: 2 }]
      }))
    })
    const stats = await reconcileStale('gameso', 'pending', references)
    expect(stats.api.byRoute['GET /v1/orders/:reference_id']).toEqual({ 200: ORDERS })

    const truth = await simulator.control<{ orders: SimulatorOrder[] }>('GET', '/_control/orders')
    const stored = await storedOrders('gameso')
    for (const order of truth.orders) {
      expect(stored.get(order.reference_id)?.status).toBe(order.status)
      expect(stored.get(order.reference_id)?.upstream_updated_at.toISOString()).toBe(order.updated_at)
    }
  })

  it('never query one MidasBuy order twice at the same time, and together bring every order to MidasBuy\'s state', async () => {
    const ids = Array.from({ length: PAYMENT_ORDERS }, (_unused, index) => `SG-STALE-${index}`)
    // Seeded silently: the notifications after Created never reached the mirror.
    await simulator.control('POST', '/_control/midasbuy/orders', {
      orders: ids.map((id, index) => ({ payment_order_id: id, status: index % 5 === 0 ? 'Refunded' : 'Finished' }))
    })
    const stats = await reconcileStale('midasbuy', 'Created', ids)
    // Every query was signed well enough for the simulator to answer it.
    expect(stats.api.byStatus).toEqual({ 200: PAYMENT_ORDERS })

    const truth = await simulator.control<{ orders: PaymentOrder[] }>('GET', '/_control/midasbuy/orders')
    expect(truth.orders).toHaveLength(PAYMENT_ORDERS)
    const stored = await storedOrders('midasbuy')
    for (const order of truth.orders) {
      expect(stored.get(order.payment_order_id)?.provider_status).toBe(order.order_status)
      expect(stored.get(order.payment_order_id)?.upstream_updated_at.getTime()).toBe(Date.parse(order.update_time))
    }
  })
})
