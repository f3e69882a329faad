import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { NotFoundError, errorBodySchema } from '../errors.js'
import { midasbuyOrderResponseSchema, presentMidasBuyOrder } from '../providers/midasbuy/midasbuy-presenter.js'
import { findMidasBuyOrder } from '../repositories/midasbuy-order-queries.js'
import { paymentOrderParamsSchema } from './merchant-route-schemas.js'

/** The merchant read route for MidasBuy orders. Register inside `merchantScope` (src/plugins/auth.ts). */
export const midasbuyOrderRoutes = fp(async function midasbuyOrderRoutes (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/midasbuy/orders/:payment_order_id', {
    schema: {
      tags: ['orders'],
      summary: 'One MidasBuy order, in the shape of MidasBuy\'s OrderQuery answer',
      description: 'Answers from the local mirror only: what MidasBuy payment notifications have brought. Amounts keep the scale MidasBuy sent.',
      params: paymentOrderParamsSchema,
      response: { 200: midasbuyOrderResponseSchema, 400: errorBodySchema, 404: errorBodySchema, 503: errorBodySchema }
    }
  }, async (request) => {
    const order = await findMidasBuyOrder(app.db.pool, request.params.payment_order_id)
    if (order === null) throw new NotFoundError()
    return presentMidasBuyOrder(order)
  })
}, { name: 'midasbuy-order-routes', dependencies: ['database'], encapsulate: true })
