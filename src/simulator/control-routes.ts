import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NotFoundError } from '../errors.js'
import { faultsPatchSchema } from './faults.js'
import { ORDER_STATUSES } from './order.js'
import { parseBody, seedOrderSchema, type SeedOrderInput } from './order-schemas.js'
import { settingsPatchSchema } from './options.js'
import type { SimulatorControl } from './simulator.js'

/** Control bodies may carry 10,000+ seeded orders. */
const CONTROL_BODY_LIMIT = 64 * 1024 * 1024

const listQuerySchema = z.object({ status: z.enum(ORDER_STATUSES).optional() })
const resetQuerySchema = z.object({ orders: z.enum(['true', 'false']).optional() })

/**
 * The simulator's own API under /_control: no API key, because it is a test tool meant to listen
 * on loopback only. It drives the same SimulatorControl that in-process tests use.
 */
export async function controlRoutes (app: FastifyInstance, options: { control: SimulatorControl }): Promise<void> {
  const { control } = options

  app.get('/_control/stats', async () => control.stats())

  app.post('/_control/reset', async (request) => {
    const query = parseBody(resetQuerySchema, request.query)
    control.resetStats()
    if (query.orders === 'true') control.clearOrders()
    return control.stats()
  })

  app.get('/_control/faults', async () => control.faults())
  app.post('/_control/faults', async (request) => control.setFaults(parseBody(faultsPatchSchema, request.body)))
  app.delete('/_control/faults', async () => control.clearFaults())

  app.get('/_control/settings', async () => control.settings())
  app.post('/_control/settings', async (request) => control.updateSettings(parseBody(settingsPatchSchema, request.body)))

  app.post('/_control/orders', { bodyLimit: CONTROL_BODY_LIMIT }, async (request) => {
    const body = request.body
    if (body !== null && typeof body === 'object' && 'orders' in body) {
      return { created: control.seedOrders(body.orders as SeedOrderInput[]).length }
    }
    // Checked here first so a single seed's errors name its fields without an "orders[0]." prefix.
    parseBody(seedOrderSchema, body)
    const [order] = control.seedOrders([body as SeedOrderInput])
    return order
  })

  app.get('/_control/orders', async (request) => {
    const { status } = parseBody(listQuerySchema, request.query)
    const orders = control.orders(status)
    return { count: orders.length, orders }
  })

  app.get<{ Params: { reference_id: string } }>('/_control/orders/:reference_id', async (request) => {
    const order = control.order(request.params.reference_id)
    if (!order) throw new NotFoundError()
    return order
  })

  app.post<{ Params: { reference_id: string } }>('/_control/orders/:reference_id/advance', async (request) => {
    return control.advance(request.params.reference_id)
  })
}
