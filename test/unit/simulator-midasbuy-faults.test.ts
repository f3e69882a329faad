import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { gamesoProvider } from '../../src/providers/gameso/index.js'
import { midasbuyProvider } from '../../src/providers/midasbuy/index.js'
import { signMidasBuyRequest } from '../../src/providers/midasbuy/midasbuy-request-signature.js'
import { createMidasBuySignatureVerifier } from '../../src/providers/midasbuy/midasbuy-signature.js'
import { simulatorConfigFromEnv, type SimulatorOptionsInput } from '../../src/simulator/options.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// Fault parity: MidasBuy's payment notifications and OrderQuery get every fault GameSO's webhooks
// and get-order get, from the same switches, with the same seeded draws per upstream.

const SEED = 20261202
const APP_ID = '1450015065'
const merchant = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const verifyPlatform = createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'txgw-signature')

type MidasBuyOptions = NonNullable<SimulatorOptionsInput['midasbuy']>

interface Arrival extends ReceivedDelivery { at: number }

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function receiver (): Promise<WebhookReceiver & { arrivals: Arrival[] }> {
  const arrivals: Arrival[] = []
  const started = await startWebhookReceiver('/webhooks/midasbuy/payment_notification', (delivery, res) => {
    arrivals.push({ ...delivery, at: Date.now() })
    res.writeHead(200).end('{"processed":true,"message":"ok"}')
  })
  cleanups.push(() => started.close())
  return Object.assign(started, { arrivals })
}

async function simulator (midasbuy: MidasBuyOptions): Promise<RunningSimulator> {
  const sim = await startSimulator({
    seed: SEED,
    midasbuy: { merchantPublicKey: merchant.publicKey, platformPrivateKey: midasbuyKeys.privateKey, autoProgress: false, refundRate: 0, retryScheduleMs: [10, 10], ...midasbuy }
  })
  cleanups.push(() => sim.close())
  return sim
}

/** The payment order id and status a delivery carries (a single envelope, the simulator's default). */
function carried (delivery: ReceivedDelivery): string {
  const { resource } = JSON.parse(delivery.raw.toString('utf8')) as { resource: { payment_order_id: string, order_status: string } }
  return `${resource.payment_order_id} ${resource.order_status}`
}

function purchases (sim: RunningSimulator, count: number): string[] {
  return Array.from({ length: count }, () => sim.controls.midasbuy.purchase().payment_order_id)
}

async function orderQuery (sim: RunningSimulator, id: string): Promise<{ status: number, retryAfter: string | null, name: unknown }> {
  const url = `${sim.url}/v2/orders`
  const body = JSON.stringify({ id })
  const { headers } = signMidasBuyRequest({ method: 'POST', url, body }, { appId: APP_ID, serialNo: 'CERT-1', privateKey: merchant.privateKey })
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const answer = await response.json() as { name?: unknown }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), name: answer.name }
}

describe('MidasBuy simulator: the same fault switches as GameSO', () => {
  const faultVariables = (environment: typeof gamesoProvider.simulator.environment, prefix: string) => new Map(environment
    .filter(([, path]) => path[0] === 'faults')
    .map(([variable, path]) => [variable.slice(prefix.length), path.join('.')]))

  it('every GameSO fault variable has a SIMULATOR_MIDASBUY_ twin setting the same switch', () => {
    const gameso = faultVariables(gamesoProvider.simulator.environment, 'SIMULATOR_')
    const midasbuy = faultVariables(midasbuyProvider.simulator.environment, 'SIMULATOR_MIDASBUY_')
    expect(gameso.size).toBeGreaterThanOrEqual(12)
    expect(midasbuy).toEqual(gameso)

    const values: Record<string, string> = Object.fromEntries([
      ['DROP_RATE', '0.3'], ['DUPLICATE_RATE', '0.2'], ['REORDER', 'true'], ['REORDER_WINDOW_MS', '400'], ['WEBHOOK_DELAY_MS', '250'], ['ERROR_RATE', '0.1'],
      ['RATE_LIMITED_RATE', '0.05'], ['RETRY_AFTER_SECONDS', '3'], ['SLOW_MS', '20'], ['SLOW_RATE', '0.5'], ['MAX_RPS', '50'], ['DOWN_FOR_MS', '1000']
    ])
    expect(Object.keys(values).sort()).toEqual([...gameso.keys()].sort())
    const env = Object.fromEntries(Object.entries(values).flatMap(([suffix, value]) => [[`SIMULATOR_${suffix}`, value], [`SIMULATOR_MIDASBUY_${suffix}`, value]]))
    const { options } = simulatorConfigFromEnv(env)
    expect(options.midasbuy.faults).toEqual(options.faults)
    expect(options.midasbuy.faults).toMatchObject({ dropRate: 0.3, duplicateRate: 0.2, reorder: true, delayMs: 250, errorRate: 0.1, maxRequestsPerSecond: 50 })
  })
})

describe('MidasBuy simulator: notification faults (seeded)', () => {
  it('dropRate loses a share for good, not retried: delivered + dropped = generated, the same ones for the same seed', async () => {
    const dropped = async () => {
      const hook = await receiver()
      const sim = await simulator({ webhookUrls: [hook.url], faults: { dropRate: 0.3 } })
      const ids = purchases(sim, 40)
      await sim.controls.midasbuy.webhooksIdle()
      const { webhooks } = sim.controls.midasbuy.stats()
      expect(webhooks).toMatchObject({ generated: 40, retried: 0, failed: 0 })
      expect(webhooks.dropped).toBeGreaterThan(0)
      expect(webhooks.delivered).toBeGreaterThan(0)
      expect(webhooks.delivered + webhooks.dropped).toBe(40)
      expect(hook.received).toHaveLength(webhooks.delivered)
      const arrived = new Set(hook.received.map((delivery) => carried(delivery)))
      return ids.filter((id) => !arrived.has(`${id} Created`))
    }
    const first = await dropped()
    expect(first.length).toBeGreaterThan(0)
    expect(await dropped()).toEqual(first)
  })

  it('duplicateRate sends extra copies of the same bytes, each attempt signed afresh', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], faults: { duplicateRate: 0.2 } })
    purchases(sim, 40)
    await sim.controls.midasbuy.webhooksIdle()
    const { webhooks } = sim.controls.midasbuy.stats()
    expect(webhooks.duplicated).toBeGreaterThan(0)
    expect(webhooks).toMatchObject({ generated: 40, delivered: 40 + webhooks.duplicated })
    const copies = new Map<string, ReceivedDelivery[]>()
    for (const delivery of hook.received) copies.set(delivery.raw.toString('hex'), [...copies.get(delivery.raw.toString('hex')) ?? [], delivery])
    expect(copies.size).toBe(40)
    const repeated = [...copies.values()].filter((same) => same.length > 1)
    expect(repeated.reduce((sum, same) => sum + same.length - 1, 0)).toBe(webhooks.duplicated)
    for (const same of repeated) {
      expect(new Set(same.map((delivery) => delivery.headers['txgw-nonce'])).size).toBe(same.length)
      for (const delivery of same) expect(verifyPlatform(delivery.raw, delivery.headers)).toMatchObject({ valid: true })
    }
  })

  it('reorder sends a window shuffled, every notification once, an older status after a newer one', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], faults: { reorder: true, reorderWindowMs: 300 } })
    const ids = purchases(sim, 10)
    for (const id of ids) sim.controls.midasbuy.advance(id)
    for (const id of ids) sim.controls.midasbuy.advance(id)
    await sim.controls.midasbuy.webhooksIdle()
    const generated = ['Created', 'Paid', 'Finished'].flatMap((status) => ids.map((id) => `${id} ${status}`))
    const arrived = hook.received.map((delivery) => carried(delivery))
    expect([...arrived].sort()).toEqual([...generated].sort())
    expect(arrived).not.toEqual(generated)
    const position = (event: string) => arrived.indexOf(event)
    expect(ids.some((id) => position(`${id} Paid`) < position(`${id} Created`) || position(`${id} Finished`) < position(`${id} Paid`))).toBe(true)
  })

  it('delayMs holds notifications back by a random time up to the bound, and all still arrive', async () => {
    const hook = await receiver()
    const sim = await simulator({ webhookUrls: [hook.url], faults: { delayMs: 300 } })
    const sentAt = new Map<string, number>()
    for (let i = 0; i < 20; i++) {
      const now = Date.now()
      sentAt.set(sim.controls.midasbuy.purchase().payment_order_id, now)
    }
    await sim.controls.midasbuy.webhooksIdle()
    expect(hook.arrivals).toHaveLength(20)
    const lags = hook.arrivals.map((arrival) => arrival.at - (sentAt.get(carried(arrival).split(' ')[0]!) ?? Infinity))
    // Undelayed, a loopback delivery takes a few milliseconds; 20 draws up to 300 ms all under 50
    // would happen once in 10^15 runs.
    expect(Math.max(...lags)).toBeGreaterThan(50)
  })
})

describe('MidasBuy simulator: OrderQuery faults (seeded)', () => {
  it('errorRate answers a share with 500 INTERNAL or 503 UNAVAILABLE, the rest normally, the same requests for the same seed', async () => {
    const answers = async () => {
      const sim = await simulator({ faults: { errorRate: 0.3 } })
      const [order] = sim.controls.midasbuy.seedOrders([{}])
      const statuses: number[] = []
      for (let i = 0; i < 30; i++) {
        const answer = await orderQuery(sim, order!.payment_order_id)
        expect(answer.name).toBe(({ 200: undefined, 500: 'INTERNAL', 503: 'UNAVAILABLE' } as Record<number, string | undefined>)[answer.status])
        statuses.push(answer.status)
      }
      return statuses
    }
    const first = await answers()
    expect(new Set(first)).toEqual(new Set([200, 500, 503]))
    expect(await answers()).toEqual(first)
  })

  it('rateLimitedRate answers a share with 429 RESOURCE_EXHAUSTED and Retry-After, the same requests for the same seed', async () => {
    const answers = async () => {
      const sim = await simulator({ faults: { rateLimitedRate: 0.3, retryAfterSeconds: 4 } })
      const [order] = sim.controls.midasbuy.seedOrders([{}])
      const seen: string[] = []
      for (let i = 0; i < 30; i++) {
        const answer = await orderQuery(sim, order!.payment_order_id)
        if (answer.status === 429) expect([answer.name, answer.retryAfter]).toEqual(['RESOURCE_EXHAUSTED', '4'])
        seen.push(String(answer.status))
      }
      return seen
    }
    const first = await answers()
    expect(new Set(first)).toEqual(new Set(['200', '429']))
    expect(await answers()).toEqual(first)
  })

  it('slowMs holds a query back while it counts as in flight for its id, so two polls of one order held together are seen', async () => {
    const sim = await simulator({ faults: { slowMs: 60_000 } })
    const [order] = sim.controls.midasbuy.seedOrders([{}])
    const held = [orderQuery(sim, order!.payment_order_id), orderQuery(sim, order!.payment_order_id)]
    const deadline = Date.now() + 10_000
    while (sim.controls.midasbuy.stats().api.maxConcurrentGetsPerReference < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    const { api } = sim.controls.midasbuy.stats()
    expect(api).toMatchObject({ inFlight: 2, maxConcurrentGetsPerReference: 2, maxConcurrentGetsReference: order!.payment_order_id, byStatus: {} })
    // Closing wakes held answers rather than waiting a minute for them.
    await sim.close()
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual([200, 200])
  })
})
