import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NotFoundError } from '../../../errors.js'
import { CONTROL_BODY_LIMIT } from '../../../simulator/control-routes.js'
import { parseBody } from '../../../simulator/parse-body.js'
import type { GameSoControl } from './control.js'
import { ORDER_STATUSES } from './order.js'
import { seedOrderSchema, type SeedOrderInput } from './order-schemas.js'

const listQuerySchema = z.object({ status: z.enum(ORDER_STATUSES).optional() })

/** GameSO's orders under the control prefix: seed, list, read one, force the next step. */
export async function orderControlRoutes (app: FastifyInstance, options: { control: GameSoControl }): Promise<void> {
  const { control } = options

  app.post('/orders', { bodyLimit: CONTROL_BODY_LIMIT }, async (request) => {
    const body = request.body
    if (body !== null && typeof body === 'object' && 'orders' in body) {
      return { created: control.seedOrders(body.orders as SeedOrderInput[]).length }
    }
    // Checked here first so a single seed's errors name its fields without an "orders[0]." prefix.
    parseBody(seedOrderSchema, body)
    const [order] = control.seedOrders([body as SeedOrderInput])
    return order
  })

  app.get('/orders', async (request) => {
    const { status } = parseBody(listQuerySchema, request.query)
    const orders = control.orders(status)
    return { count: orders.length, orders }
  })

  app.get<{ Params: { reference_id: string } }>('/orders/:reference_id', async (request) => {
    const order = control.order(request.params.reference_id)
    if (!order) throw new NotFoundError()
    return order
  })

  app.post<{ Params: { reference_id: string } }>('/orders/:reference_id/advance', async (request) => {
    return control.advance(request.params.reference_id)
  })
}
