import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimulatorOptionsInput } from '../../src/simulator/options.js'
import { buildSimulator, type Simulator } from '../../src/simulator/simulator.js'

const SECRET = 'whsec_test'

interface Received {
  headers: IncomingHttpHeaders
  raw: Buffer
  body: { event: string, timestamp: number, data: { reference_id: string, status: string, updated_at: string } }
  arrivedAt: number
}

/** A webhook receiver on a real port; `respond` picks each answer (default 200). */
interface Receiver {
  url: string
  received: Received[]
  respond: (delivery: Received, res: ServerResponse) => void
  close (): Promise<void>
}

async function startReceiver (): Promise<Receiver> {
  const received: Received[] = []
  const receiver: Receiver = {
    url: '',
    received,
    respond: (_, res) => { res.writeHead(200).end('{"received":true}') },
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const delivery = { headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')), arrivedAt: Date.now() }
      received.push(delivery)
      receiver.respond(delivery, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/gameso`
  return receiver
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup (options: SimulatorOptionsInput = {}): Promise<{ sim: Simulator, receiver: Receiver }> {
  const receiver = await startReceiver()
  cleanups.push(() => receiver.close())
  const sim = await buildSimulator({
    apiKey: 'k',
    seed: 3,
    itemFailureRate: 0,
    webhookUrls: [receiver.url],
    webhookSecret: SECRET,
    processingDelayMs: 2,
    completionDelayMs: 2,
    retryDelayMs: 10,
    ...options
  })
  cleanups.push(() => sim.app.close())
  return { sim, receiver }
}

async function createOrders (sim: Simulator, count: number, prefix = 'w', items: unknown[] = [{ sku: 'DIAMOND_100' }]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await sim.app.inject({ method: 'POST', url: '/v1/orders', headers: { 'x-api-key': 'k' }, payload: { reference_id: `${prefix}-${i}`, user_id: 'u', items } })
    expect(response.statusCode).toBe(200)
  }
}

/** Waits until every order is final and every delivery has settled. */
async function settle (sim: Simulator): Promise<void> {
  const deadline = Date.now() + 8000
  for (;;) {
    const { orders } = sim.control.stats()
    if (orders.byStatus.pending + orders.byStatus.processing === 0) break
    if (Date.now() > deadline) throw new Error('orders did not finish')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await sim.control.webhooksIdle()
}

function verifies (raw: Buffer, signature: string, secret = SECRET): boolean {
  const expected = createHmac('sha256', secret).update(raw).digest()
  const given = Buffer.from(signature, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

describe('simulator webhooks: format and signature', () => {
  it('POSTs order.completed signed with HMAC-SHA256 over the raw bytes, data equal to GET', async () => {
    const { sim, receiver } = await setup()
    await createOrders(sim, 1)
    await settle(sim)
    expect(receiver.received).toHaveLength(1)
    const [delivery] = receiver.received
    expect(delivery!.headers['content-type']).toBe('application/json')
    const signature = delivery!.headers['x-gameso-signature'] as string
    expect(signature).toMatch(/^[0-9a-f]{64}$/)
    expect(verifies(delivery!.raw, signature)).toBe(true)
    expect(verifies(delivery!.raw, signature, 'another-secret')).toBe(false)
    expect(Object.keys(delivery!.body)).toEqual(['event', 'timestamp', 'data'])
    expect(delivery!.body.event).toBe('order.completed')
    expect(delivery!.body.data).toEqual(sim.control.order('w-0'))
    expect(delivery!.body.timestamp).toBe(Math.floor(Date.parse(delivery!.body.data.updated_at) / 1000))
    expect(sim.control.stats().webhooks).toMatchObject({ generated: 1, attempted: 1, delivered: 1, failed: 0, pending: 0, byEvent: { 'order.completed': 1 } })
  })

  it('sends order.failed for a failed order', async () => {
    const { sim, receiver } = await setup()
    await createOrders(sim, 1, 'f', [{ sku: 'LEGACY_PACK' }])
    await settle(sim)
    expect(receiver.received.map((delivery) => [delivery.body.event, delivery.body.data.status])).toEqual([['order.failed', 'failed']])
  })

  it('uses the configured header name and prefix; without a secret it signs nothing', async () => {
    const { sim, receiver } = await setup({ signatureHeader: 'X-Custom-Sig', signaturePrefix: 'sha256=' })
    await createOrders(sim, 1)
    await settle(sim)
    const signature = receiver.received[0]!.headers['x-custom-sig'] as string
    expect(signature.startsWith('sha256=')).toBe(true)
    expect(verifies(receiver.received[0]!.raw, signature.slice('sha256='.length))).toBe(true)

    const unsigned = await setup({ webhookSecret: null })
    await createOrders(unsigned.sim, 1)
    await settle(unsigned.sim)
    expect(unsigned.receiver.received[0]!.headers).not.toHaveProperty('x-gameso-signature')
  })

  it('sends order.pending and order.processing only when asked, each snapshot as it was', async () => {
    const { sim, receiver } = await setup({ webhookEvents: ['pending', 'processing', 'completed', 'failed'] })
    await createOrders(sim, 3)
    await settle(sim)
    expect(receiver.received).toHaveLength(9)
    for (const reference of ['w-0', 'w-1', 'w-2']) {
      const mine = receiver.received.filter((delivery) => delivery.body.data.reference_id === reference)
      const byEvent = Object.fromEntries(mine.map((delivery) => [delivery.body.event, delivery.body.data]))
      expect(Object.keys(byEvent).sort()).toEqual(['order.completed', 'order.pending', 'order.processing'])
      expect(byEvent['order.pending']!.status).toBe('pending')
      expect(byEvent['order.processing']!.status).toBe('processing')
      expect(byEvent['order.pending']!.updated_at < byEvent['order.processing']!.updated_at).toBe(true)
      expect(byEvent['order.processing']!.updated_at < byEvent['order.completed']!.updated_at).toBe(true)
    }
  })

  it('seeded orders stay silent unless send_webhooks is set', async () => {
    const { sim, receiver } = await setup()
    sim.control.seedOrders([{ reference_id: 'quiet' }, { reference_id: 'loud', send_webhooks: true }, { reference_id: 'later', status: 'pending' }])
    await settle(sim)
    expect(receiver.received.map((delivery) => delivery.body.data.reference_id)).toEqual(['loud'])
  })

  it('the control API retargets webhooks at runtime', async () => {
    const { sim, receiver } = await setup()
    const other = await startReceiver()
    cleanups.push(() => other.close())
    await sim.app.inject({ method: 'POST', url: '/_control/settings', payload: { webhookUrls: [other.url], webhookSecret: 'rotated' } })
    await createOrders(sim, 1)
    await settle(sim)
    expect(receiver.received).toHaveLength(0)
    expect(verifies(other.received[0]!.raw, other.received[0]!.headers['x-gameso-signature'] as string, 'rotated')).toBe(true)
  })
})

describe('simulator webhooks: retries', () => {
  it('retries a 500 with the same bytes until the receiver accepts', async () => {
    const { sim, receiver } = await setup()
    receiver.respond = (_, res) => { res.writeHead(receiver.received.length <= 2 ? 500 : 200).end() }
    await createOrders(sim, 1)
    await settle(sim)
    expect(receiver.received).toHaveLength(3)
    expect(new Set(receiver.received.map((delivery) => delivery.raw.toString('hex'))).size).toBe(1)
    expect(sim.control.stats().webhooks).toMatchObject({ generated: 1, attempted: 3, retried: 2, delivered: 1, failed: 0 })
  })

  it('gives up after maxRetries', async () => {
    const { sim, receiver } = await setup({ maxRetries: 2 })
    receiver.respond = (_, res) => { res.writeHead(503).end() }
    await createOrders(sim, 1)
    await settle(sim)
    expect(receiver.received).toHaveLength(3)
    expect(sim.control.stats().webhooks).toMatchObject({ attempted: 3, retried: 2, delivered: 0, failed: 1, pending: 0 })
  })

  it('treats a refused connection and a timeout as failures too', async () => {
    const closed = await startReceiver()
    await closed.close()
    const { sim: refused } = await setup({ webhookUrls: [closed.url], maxRetries: 1 })
    await createOrders(refused, 1)
    await settle(refused)
    expect(refused.control.stats().webhooks).toMatchObject({ attempted: 2, failed: 1 })

    const { sim, receiver } = await setup({ webhookTimeoutMs: 100, maxRetries: 1 })
    receiver.respond = (_, res) => { if (receiver.received.length > 1) res.writeHead(200).end() }
    await createOrders(sim, 1)
    await settle(sim)
    expect(sim.control.stats().webhooks).toMatchObject({ attempted: 2, retried: 1, delivered: 1, failed: 0 })
  })

  it('closing abandons deliveries that hang or wait for a retry', async () => {
    const { sim, receiver } = await setup({ retryDelayMs: 60_000 })
    receiver.respond = () => {}
    await createOrders(sim, 2)
    const deadline = Date.now() + 5000
    while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sim.control.stats().webhooks.pending).toBe(2)
    await sim.app.close()
    expect(sim.control.stats().webhooks.pending).toBe(0)
    await sim.control.webhooksIdle()
  })
})

describe('simulator webhooks: faults', () => {
  it('dropRate 1 delivers nothing and retries nothing', async () => {
    const { sim, receiver } = await setup({ faults: { dropRate: 1 } })
    await createOrders(sim, 5)
    await settle(sim)
    expect(receiver.received).toHaveLength(0)
    expect(sim.control.stats().webhooks).toMatchObject({ generated: 5, dropped: 5, attempted: 0, retried: 0 })
  })

  it('a partial dropRate loses some: delivered + dropped = generated', async () => {
    const { sim, receiver } = await setup({ faults: { dropRate: 0.5 } })
    await createOrders(sim, 30)
    await settle(sim)
    const { webhooks } = sim.control.stats()
    expect(webhooks.dropped).toBeGreaterThan(0)
    expect(receiver.received.length).toBeGreaterThan(0)
    expect(receiver.received.length + webhooks.dropped).toBe(30)
  })

  it('duplicateRate delivers identical copies; the stats count the extras', async () => {
    const { sim, receiver } = await setup({ faults: { duplicateRate: 1 } })
    await createOrders(sim, 2)
    await settle(sim)
    expect(receiver.received).toHaveLength(8)
    for (const reference of ['w-0', 'w-1']) {
      const copies = receiver.received.filter((delivery) => delivery.body.data.reference_id === reference)
      expect(copies).toHaveLength(4)
      expect(new Set(copies.map((delivery) => delivery.raw.toString('hex'))).size).toBe(1)
    }
    expect(sim.control.stats().webhooks).toMatchObject({ generated: 2, duplicated: 6, delivered: 8 })
  })

  it('reorder delivers a window of events out of their order', async () => {
    const { sim, receiver } = await setup({ webhookEvents: ['processing', 'completed'], autoProgress: false, faults: { reorder: true, reorderWindowMs: 200 } })
    await createOrders(sim, 1)
    sim.control.advance('w-0')
    sim.control.advance('w-0')
    await sim.control.webhooksIdle()
    expect(receiver.received.map((delivery) => delivery.body.event)).toEqual(['order.completed', 'order.processing'])
  })

  it('reorder shuffles a larger window and still delivers every event once', async () => {
    const { sim, receiver } = await setup({ webhookEvents: ['processing', 'completed'], autoProgress: false, faults: { reorder: true, reorderWindowMs: 300 } })
    await createOrders(sim, 10)
    for (let i = 0; i < 10; i++) sim.control.advance(`w-${i}`)
    for (let i = 0; i < 10; i++) sim.control.advance(`w-${i}`)
    await sim.control.webhooksIdle()
    const arrived = receiver.received.map((delivery) => `${delivery.body.data.reference_id} ${delivery.body.event}`)
    const generated = [
      ...Array.from({ length: 10 }, (_, i) => `w-${i} order.processing`),
      ...Array.from({ length: 10 }, (_, i) => `w-${i} order.completed`)
    ]
    expect([...arrived].sort()).toEqual([...generated].sort())
    expect(arrived).not.toEqual(generated)
  })

  it('delayMs holds deliveries back by a random time up to the bound, and all still arrive', async () => {
    const { sim, receiver } = await setup({ webhookEvents: ['pending'], faults: { delayMs: 300 } })
    await createOrders(sim, 20)
    await settle(sim)
    expect(receiver.received).toHaveLength(20)
    const lags = receiver.received.map((delivery) => delivery.arrivedAt - Date.parse(delivery.body.data.updated_at))
    // Undelayed, a loopback delivery takes a few milliseconds; 20 draws up to 300 ms all under 50
    // would happen once in 10^15 runs.
    expect(Math.max(...lags)).toBeGreaterThan(50)
  })

  it('fault switches set through the control API apply to the next events', async () => {
    const { sim, receiver } = await setup()
    await sim.app.inject({ method: 'POST', url: '/_control/faults', payload: { dropRate: 1 } })
    await createOrders(sim, 2, 'off')
    await settle(sim)
    await sim.app.inject({ method: 'DELETE', url: '/_control/faults' })
    await createOrders(sim, 2, 'on')
    await settle(sim)
    expect(receiver.received.map((delivery) => delivery.body.data.reference_id).sort()).toEqual(['on-0', 'on-1'])
  })
})
