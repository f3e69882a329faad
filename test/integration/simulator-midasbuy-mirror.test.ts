import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'

const API_KEY = 'merchant-key-simulated-midasbuy'

// The simulated MidasBuy's notifications, taken by the real mirror over real HTTP: the mirror's
// verifier accepts the simulator's signatures, and what it stores is what the simulator holds.
describe('simulated MidasBuy notifications into the mirror', () => {
  let database: TestDatabase
  let mirror: FastifyInstance
  let sim: RunningSimulator

  beforeAll(async () => {
    database = await createTestDatabase()
    mirror = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey }), { db: database.db })
    await mirror.listen({ host: '127.0.0.1', port: 0 })
    const address = mirror.server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    sim = await startSimulator({
      seed: 5,
      midasbuy: {
        platformPrivateKey: midasbuyKeys.privateKey,
        webhookUrls: [`http://127.0.0.1:${port}/webhooks/midasbuy/payment_notification`],
        retryScheduleMs: [20, 20, 20],
        autoProgress: false
      }
    })
  })

  afterAll(async () => {
    await sim.close()
    await mirror.close()
    await database.drop()
  })

  it('every status change arrives verified, and the mirror ends with the simulator\'s order', async () => {
    const control = sim.controls.midasbuy
    const orders = [
      control.purchase({ currency: 'JPY', items: [{ price: '480', quantity: 2 }], refund: false }),
      control.purchase({ currency: 'TND', items: [{ price: '12.5' }], refund: true }),
      control.purchase({ currency: 'USD', items: [{ price: '0.99', quantity: 5 }, { product_id: 'pass', price: '9.99', product_type: 'SUBSCRIPTION' }] })
    ]
    await control.webhooksIdle()
    for (const { payment_order_id: id } of orders) {
      control.advance(id)
      await control.webhooksIdle()
      control.advance(id)
      await control.webhooksIdle()
    }
    control.refund(orders[1]!.payment_order_id)
    await control.webhooksIdle()

    expect(control.stats().webhooks).toMatchObject({ generated: 10, delivered: 10, retried: 0, failed: 0 })
    for (const { payment_order_id: id } of orders) {
      const stored = await mirror.inject({ method: 'GET', url: `/v1/midasbuy/orders/${id}`, headers: { 'x-api-key': API_KEY } })
      expect(stored.statusCode).toBe(200)
      expect(stored.json()).toEqual(control.order(id))
    }
    expect(control.order(orders[1]!.payment_order_id)).toMatchObject({ order_status: 'Refunded', total_price: { currency: 'TND', amount: '12.500' } })
  })
})
