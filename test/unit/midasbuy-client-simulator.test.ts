import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/metrics/metrics.js'
import { MidasBuyClient, type MidasBuyClientOptions } from '../../src/providers/midasbuy/midasbuy-client.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { UpstreamUnauthorizedError } from '../../src/upstream/upstream-errors.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'

// The mirror's OrderQuery client against the simulated MidasBuy over real HTTP: both sides sign and
// verify with the same module, so this is where a disagreement about the signed string shows.

const merchant = generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const stranger = createPrivateKey(generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
}).privateKey)

describe('MidasBuy client against the MidasBuy simulator', () => {
  let sim: RunningSimulator
  let metrics = createMetrics()
  const clients: MidasBuyClient[] = []

  function client (overrides: Partial<MidasBuyClientOptions> = {}) {
    const created = new MidasBuyClient({
      baseUrl: sim.url,
      appId: '1450015065',
      certSerialNo: 'CERT-1',
      merchantPrivateKey: createPrivateKey(merchant.privateKey),
      maxRequestsPerSecond: 100,
      maxConcurrency: 4,
      timeoutMs: 5000,
      log: pino({ level: 'silent' }),
      metrics,
      ...overrides
    })
    clients.push(created)
    return created
  }

  beforeAll(async () => {
    sim = await startSimulator({
      seed: 7,
      midasbuy: { merchantPublicKey: merchant.publicKey, platformPrivateKey: midasbuyKeys.privateKey, autoProgress: false, refundRate: 0 }
    })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.close()))
    metrics = createMetrics()
  })
  afterAll(async () => { await sim.close() })

  it('fetches a seeded order exactly as the simulator holds it, with or without the /midasbuy prefix', async () => {
    const [order] = sim.controls.midasbuy.seedOrders([{ payment_order_id: 'SG-CLIENT-1', currency: 'TND', status: 'Paid', items: [{ price: '1.5', quantity: 2 }] }])
    for (const baseUrl of [sim.url, `${sim.url}/midasbuy`]) {
      expect(await client({ baseUrl }).fetchOrder('SG-CLIENT-1')).toEqual({ found: true, order })
    }
  })

  it('reads the simulator\'s 404 NOT_FOUND as no such order', async () => {
    expect(await client().fetchOrder('SG-NEVER-SEEN')).toEqual({ found: false })
  })

  it('gets a request signed with the wrong key refused: a typed 401, counted, never a crash', async () => {
    sim.controls.midasbuy.seedOrders([{ payment_order_id: 'SG-CLIENT-2' }])
    const error = await client({ merchantPrivateKey: stranger }).fetchOrder('SG-CLIENT-2').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UpstreamUnauthorizedError)
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', sent: true, body: { debug_id: expect.stringMatching(/^[0-9a-f]{16}$/) } })
    const counted = await metrics.upstreamRequestsTotal.get()
    expect(counted.values).toEqual([expect.objectContaining({ labels: { provider: 'midasbuy', operation: 'order_query', status: '401' }, value: 1 })])
    expect(sim.controls.midasbuy.stats().signatures.refused).toMatchObject({ mismatch: 1 })
  })
})
