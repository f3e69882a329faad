import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMirrorStack, type MirrorStack } from '../helpers/mirror-stack.js'

const GAMESO_ORDERS = 80
const MIDASBUY_ORDERS = 60
// Healthy, partly failing and always failing products, so final states include failed orders
// with partial item failures and failure codes.
const SKUS = ['DIAMOND_100', 'UC_325', 'GEMS_FLAKY', 'DIAMOND_1000', 'LEGACY_PACK']
// Currencies of every scale MidasBuy uses (none, two and three decimals), with prices that fit them.
const MIDASBUY_PRICES = [['JPY', '480'], ['USD', '7.47'], ['TND', '12.500']] as const
/** The longest the mirror may take, once the simulator's orders are final, to equal them. */
const CONVERGENCE_MS = 45_000

interface GameSoOrder {
  reference_id: string
  status: string
  [field: string]: unknown
}

interface PaymentOrder {
  payment_order_id: string
  order_status: string
  [field: string]: unknown
}

interface SimulatorStats {
  webhooks: { generated: number, dropped: number, duplicated: number, pending: number }
}

/**
 * Polls until `mismatched` finds nothing to report once the simulator's orders are all final, and
 * returns what was still mismatched when it stopped (empty on success) with the last truth seen.
 * `truthNow` answers null until the simulator is done: its orders final and every webhook sent,
 * so the reads that compare do not fetch, through the mirror, an order still on its way to it.
 */
async function converge<Order> (truthNow: () => Promise<Order[] | null>, mismatched: (truth: Order[]) => Promise<string[]>): Promise<{ truth: Order[], left: string[] }> {
  let truth: Order[] = []
  let left = ['the simulator\'s orders never became final']
  const deadline = Date.now() + CONVERGENCE_MS
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const final = await truthNow()
    if (final === null) continue
    truth = final
    left = await mismatched(truth)
  }
  return { truth, left }
}

// Both upstreams at once, in one stack: GameSO orders created through the mirror, MidasBuy orders
// bought at the simulator, each provider's webhooks 30 % dropped, 20 % duplicated, the rest
// reordered. The simulator is the truth; every order of both must end exactly as it says.
describe('every order of both providers reaches the simulator\'s final state through a hostile webhook stream', () => {
  let stack: MirrorStack

  beforeAll(async () => {
    stack = await startMirrorStack({
      midasbuy: true,
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
        SIMULATOR_REORDER_WINDOW_MS: '400',
        // MidasBuy notifies every change of order_status (Created, Paid, Finished) by default.
        SIMULATOR_MIDASBUY_PAID_DELAY_MS: '300',
        SIMULATOR_MIDASBUY_FINISH_DELAY_MS: '300',
        SIMULATOR_MIDASBUY_WEBHOOK_RETRY_SCHEDULE_MS: '300,300,300',
        // Half of the bodies come as a JSON array of the one envelope, which MidasBuy may also send.
        SIMULATOR_MIDASBUY_ARRAY_BODIES: 'random',
        SIMULATOR_MIDASBUY_DROP_RATE: '0.3',
        SIMULATOR_MIDASBUY_DUPLICATE_RATE: '0.2',
        SIMULATOR_MIDASBUY_REORDER: 'true',
        SIMULATOR_MIDASBUY_REORDER_WINDOW_MS: '400'
      },
      service: {
        GAMESO_MAX_REQUESTS_PER_SECOND: '200',
        MIDASBUY_MAX_REQUESTS_PER_SECOND: '200',
        RECONCILE_INTERVAL_MS: '200',
        RECONCILE_STALE_AFTER_MS: '2000',
        RECONCILE_MAX_BACKOFF_MS: '1000'
      }
    })
  })

  afterAll(async () => { await stack?.stop() })

  async function count (sql: string, values: unknown[] = []): Promise<number> {
    const { rows } = await stack.database.db.pool.query<{ n: number }>(sql, values)
    return rows[0]?.n ?? 0
  }

  async function webhooksSent (provider: 'gameso' | 'midasbuy'): Promise<boolean> {
    const { webhooks } = await stack.simulator.control<SimulatorStats>('GET', `/_control/${provider}/stats`)
    return webhooks.pending === 0
  }

  /** GameSO: ten merchants creating through the mirror at once, each order with one to three lines. */
  async function gamesoTraffic (): Promise<string[]> {
    const references = Array.from({ length: GAMESO_ORDERS }, (_unused, index) => `chaos-${index}`)
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
    return references
  }

  /**
   * MidasBuy: players buying at the simulator, five at a time. No refunds: Finished is final for
   * polling, so a dropped Refunded notification could never be healed and the order would rightly
   * stay Finished in the mirror, which is not what this test is about.
   */
  async function midasbuyTraffic (): Promise<string[]> {
    const ids: string[] = []
    let next = 0
    await Promise.all(Array.from({ length: 5 }, async () => {
      while (next < MIDASBUY_ORDERS) {
        const index = next++
        const [currency, price] = MIDASBUY_PRICES[index % MIDASBUY_PRICES.length]!
        const order = await stack.simulator.control<PaymentOrder>('POST', '/_control/midasbuy/purchases', {
          user_id: `payer-${index % 7}`,
          currency,
          items: [{ product_id: `gems-${index % 4}`, quantity: 1 + (index % 3), price }],
          refund: false
        })
        ids.push(order.payment_order_id)
      }
    }))
    return ids
  }

  it('converges on every order of both, with drops healed by polls and duplicates and stale deliveries recognised', async () => {
    const [references, paymentOrderIds] = await Promise.all([gamesoTraffic(), midasbuyTraffic()])
    expect(new Set(paymentOrderIds).size).toBe(MIDASBUY_ORDERS)

    const [gameso, midasbuy] = await Promise.all([
      converge<GameSoOrder>(async () => {
        const { orders } = await stack.simulator.control<{ orders: GameSoOrder[] }>('GET', '/_control/gameso/orders')
        const final = orders.length === GAMESO_ORDERS && orders.every((order) => order.status === 'completed' || order.status === 'failed')
        return final && await webhooksSent('gameso') ? orders : null
      }, async (truth) => {
        const mirrored = await Promise.all(truth.map((order) => stack.merchant('GET', `/v1/orders/${order.reference_id}`)))
        return truth.filter((order, index) => !isDeepStrictEqual(mirrored[index]?.json, order)).map((order) => order.reference_id)
      }),
      converge<PaymentOrder>(async () => {
        const { orders } = await stack.simulator.control<{ orders: PaymentOrder[] }>('GET', '/_control/midasbuy/orders')
        const final = orders.length === MIDASBUY_ORDERS && orders.every((order) => order.order_status === 'Finished')
        return final && await webhooksSent('midasbuy') ? orders : null
      }, async (truth) => {
        const mirrored = await Promise.all(truth.map((order) => stack.merchant('GET', `/v1/midasbuy/orders/${order.payment_order_id}`)))
        return truth.filter((order, index) => !isDeepStrictEqual(mirrored[index]?.json, order)).map((order) => order.payment_order_id)
      })
    ])
    expect(gameso.left).toEqual([])
    expect(midasbuy.left).toEqual([])
    expect(gameso.truth.map((order) => order.reference_id).sort()).toEqual([...references].sort())
    expect(midasbuy.truth.map((order) => order.payment_order_id).sort()).toEqual([...paymentOrderIds].sort())
    expect(new Set(gameso.truth.map((order) => order.status))).toEqual(new Set(['completed', 'failed']))

    // The drop-in OrderQuery answers from the mirror exactly what MidasBuy's does.
    const [firstPayment] = midasbuy.truth
    const dropIn = await stack.merchant('POST', '/midasbuy/v2/orders', { id: firstPayment?.payment_order_id })
    expect(dropIn).toEqual({ status: 200, json: firstPayment })

    // The faults really happened to both, and the mirror really had to heal both.
    for (const [provider, healedStatuses] of [['gameso', ['completed', 'failed']], ['midasbuy', ['processing', 'completed']]] as const) {
      const { webhooks } = await stack.simulator.control<SimulatorStats>('GET', `/_control/${provider}/stats`)
      expect({ provider, dropped: webhooks.dropped > 0, duplicated: webhooks.duplicated > 0 }).toEqual({ provider, dropped: true, duplicated: true })
      const inbox = (where: string) => count(`SELECT count(*)::int AS n FROM webhook_inbox WHERE provider = $1 AND ${where}`, [provider])
      expect({ provider, duplicates: await inbox('delivery_count > 1') > 0, stale: await inbox("outcome = 'stale'") > 0 })
        .toEqual({ provider, duplicates: true, stale: true })
      // A poll that moved an order the mirror already had from a webhook: a drop healed (a read-through of an order never heard of starts from nothing).
      const healedByPoll = await count(`SELECT count(DISTINCT h.order_id)::int AS n FROM order_status_history h JOIN orders o ON o.id = h.order_id
        WHERE o.provider = $1 AND h.source = 'poll' AND h.from_status IS NOT NULL AND h.to_status = ANY($2::text[])`, [provider, healedStatuses])
      expect({ provider, healedByPoll: healedByPoll > 0 }).toEqual({ provider, healedByPoll: true })
    }
    const metrics = await (await fetch(`${stack.service.url}/metrics`)).text()
    expect(metrics).toMatch(/^order_mirror_reconcile_polls_total\{provider="midasbuy",result="applied"\} [1-9]\d*$/m)
    expect(await count("SELECT count(*)::int AS n FROM orders WHERE reconcile_state <> 'final'")).toBe(0)
    expect(await count("SELECT count(*)::int AS n FROM webhook_inbox WHERE outcome = 'invalid'")).toBe(0)
  }, 120_000)
})
