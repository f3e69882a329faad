import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { NotFoundError, errorBodySchema } from '../errors.js'
import { isPresentableMidasBuyOrder, midasbuyOrderResponseSchema, presentMidasBuyOrder } from '../providers/midasbuy/midasbuy-presenter.js'
import { findOrderByReference } from '../repositories/order-queries.js'
import { paymentOrderParamsSchema } from './merchant-route-schemas.js'

/** The merchant read route for MidasBuy orders. Register inside `merchantScope` (src/plugins/auth.ts). */
export const midasbuyOrderRoutes = fp(async function midasbuyOrderRoutes (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/midasbuy/orders/:payment_order_id', {
    schema: {
      tags: ['orders'],
      summary: 'One MidasBuy order, in the shape of MidasBuy\'s OrderQuery answer',
      description: 'Answers from the local mirror; an order it does not have is fetched once by OrderQuery and stored when MidasBuy ' +
        'polling is configured (502/504 when MidasBuy cannot answer). Amounts keep the scale MidasBuy sent.',
      params: paymentOrderParamsSchema,
      response: { 200: midasbuyOrderResponseSchema, 400: errorBodySchema, 404: errorBodySchema, 502: errorBodySchema, 503: errorBodySchema, 504: errorBodySchema }
    }
  }, async (request) => {
    const reference = request.params.payment_order_id
    const local = await findOrderByReference(app.db.pool, 'midasbuy', reference)
    // A placeholder (tracked, not yet polled) is a miss too: MidasBuy may know the order by now.
    const order = local !== null && isPresentableMidasBuyOrder(local) ? local : await app.orderCommands.readThrough('midasbuy', reference)
    if (order === null || !isPresentableMidasBuyOrder(order)) throw new NotFoundError()
    return presentMidasBuyOrder(order)
  })
}, { name: 'midasbuy-order-routes', dependencies: ['database', 'order-commands'], encapsulate: true })
