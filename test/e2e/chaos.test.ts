import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMirrorStack, type MirrorStack } from '../helpers/mirror-stack.js'

const ORDERS = 80
// Healthy, partly failing and always failing products, so final states include failed orders
// with partial item failures and failure codes.
const SKUS = ['DIAMOND_100', 'UC_325', 'GEMS_FLAKY', 'DIAMOND_1000', 'LEGACY_PACK']

interface SimulatorOrder {
  reference_id: string
  status: string
  [field: string]: unknown
}

interface SimulatorStats {
  webhooks: { generated: number, dropped: number, duplicated: number }
}

describe('every order reaches the simulator\'s final state through a hostile webhook stream', () => {
  let stack: MirrorStack

  beforeAll(async () => {
    stack = await startMirrorStack({
      simulator: {
        SIMULATOR_SEED: '424242',
        // Every status change is announced, so reordering can put an older state after a newer one.
        SIMULATOR_WEBHOOK_EVENTS: 'processing,completed,failed',
        SIMULATOR_PROCESSING_DELAY_MS: '300',
        SIMULATOR_COMPLETION_DELAY_MS: '300',
        SIMULATOR_WEBHOOK_RETRY_DELAY_MS: '300',
        SIMULATOR_DROP_RATE: '0.3',
        SIMULATOR_DUPLICATE_RATE: '0.2',
        SIMULATOR_REORDER: 'true',
        SIMULATOR_REORDER_WINDOW_MS: '400'
      },
      service: {
        GAMESO_MAX_REQUESTS_PER_SECOND: '200',
        RECONCILE_INTERVAL_MS: '200',
        RECONCILE_STALE_AFTER_MS: '2000',
        RECONCILE_MAX_BACKOFF_MS: '1000'
      }
    })
  })

  afterAll(async () => { await stack?.stop() })

  async function count (sql: string): Promise<number> {
    const { rows } = await stack.database.db.pool.query<{ n: number }>(sql)
    return rows[0]?.n ?? 0
  }

  it('converges on every order, with drops healed by polls and duplicates recognised', async () => {
    const references = Array.from({ length: ORDERS }, (_unused, index) => `chaos-${index}`)
    // Ten merchants creating at once, each order with one to three lines.
    let next = 0
    const statuses: number[] = []
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (next < references.length) {
        const index = next++
        const items = SKUS.filter((_sku, position) => (index + position) % 3 === 0).map((sku, line) => ({ sku, quantity: 1 + ((index + line) % 4) }))
        const created = await stack.merchant('POST', '/v1/orders', { reference_id: references[index], user_id: `player-${index % 7}`, items })
        statuses.push(created.status)
      }
    }))
    expect(statuses).toEqual(references.map(() => 200))

    // The simulator is the truth: wait for it to finish, then for the mirror to match it exactly.
    let truth: SimulatorOrder[] = []
    let mismatched: string[] = references
    const deadline = Date.now() + 60_000
    while (mismatched.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      truth = (await stack.simulator.control<{ orders: SimulatorOrder[] }>('GET', '/_control/orders')).orders
      if (truth.length < ORDERS || truth.some((order) => order.status !== 'completed' && order.status !== 'failed')) continue
      const mirrored = await Promise.all(truth.map((order) => stack.merchant('GET', `/v1/orders/${order.reference_id}`)))
      mismatched = truth.filter((order, index) => !isDeepStrictEqual(mirrored[index]?.json, order)).map((order) => order.reference_id)
    }
    expect(mismatched).toEqual([])
    expect(new Set(truth.map((order) => order.status))).toEqual(new Set(['completed', 'failed']))

    // The faults really happened, and the mirror really had to heal.
    const { webhooks } = await stack.simulator.control<SimulatorStats>('GET', '/_control/stats')
    expect(webhooks.dropped).toBeGreaterThan(0)
    expect(webhooks.duplicated).toBeGreaterThan(0)
    expect(await count("SELECT count(DISTINCT order_id)::int AS n FROM order_status_history WHERE source = 'poll' AND to_status IN ('completed', 'failed')")).toBeGreaterThan(0)
    expect(await count('SELECT count(*)::int AS n FROM webhook_inbox WHERE delivery_count > 1')).toBeGreaterThan(0)
    expect(await count("SELECT count(*)::int AS n FROM webhook_inbox WHERE outcome = 'stale'")).toBeGreaterThan(0)
    expect(await count("SELECT count(*)::int AS n FROM orders WHERE reconcile_state <> 'final'")).toBe(0)
  }, 120_000)
})
