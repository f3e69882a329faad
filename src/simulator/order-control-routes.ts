import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { NotFoundError } from '../errors.js'
import { CONTROL_BODY_LIMIT } from './control-routes.js'
import { parseBody } from './parse-body.js'

/** The order side of an upstream's control, as the order routes call it. */
export interface OrderControl<Order, Status extends string> {
  /** Inserts seeds, all or none; validates them (a bad `orders` is named as such). */
  seedOrders (seeds: readonly unknown[]): Order[]
  orders (status?: Status): Order[]
  order (reference: string): Order | undefined
  /** Forces the next transition now. */
  advance (reference: string): Order
}

export interface OrderControlRoutesOptions<Order, Status extends string> {
  control: OrderControl<Order, Status>
  /** The upstream's statuses, for `?status=`. */
  statuses: readonly [Status, ...Status[]]
  /** One seed's schema, checked first so a single seed's errors carry no "orders[0]." prefix. */
  seedSchema: z.ZodType
}

/**
 * The order routes every simulated upstream has under its control prefix: seed one or many
 * (`{"orders": […]}`), list (`?status=`), read one, force the next step. `/orders/:reference`
 * takes the upstream's own reference (GET by reference id, OrderQuery id …).
 */
export async function orderControlRoutes<Order, Status extends string> (app: FastifyInstance, options: OrderControlRoutesOptions<Order, Status>): Promise<void> {
  const { control } = options
  const listQuerySchema = z.object({ status: z.enum(options.statuses).optional() })

  app.post('/orders', { bodyLimit: CONTROL_BODY_LIMIT }, async (request) => {
    const body = request.body
    if (body !== null && typeof body === 'object' && 'orders' in body) {
      return { created: control.seedOrders(body.orders as readonly unknown[]).length }
    }
    parseBody(options.seedSchema, body)
    const [order] = control.seedOrders([body])
    return order
  })

  app.get('/orders', async (request) => {
    const { status } = parseBody(listQuerySchema, request.query)
    const orders = control.orders(status as Status | undefined)
    return { count: orders.length, orders }
  })

  app.get<{ Params: { reference: string } }>('/orders/:reference', async (request) => {
    const order = control.order(request.params.reference)
    if (!order) throw new NotFoundError()
    return order
  })

  app.post<{ Params: { reference: string } }>('/orders/:reference/advance', async (request) => control.advance(request.params.reference))
}
