import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { StoredOrder } from '../../../domain/stored-order.js'
import { NotFoundError, errorBodySchema } from '../../../errors.js'
import { isPresentableMidasBuyOrder, midasbuyOrderResponseSchema, presentMidasBuyOrder } from '../midasbuy-presenter.js'
import { findOrderByReference } from '../../../repositories/order-queries.js'
import { pathReferenceSchema } from '../../../domain/identifier-schemas.js'

const paymentOrderParamsSchema = z.object({
  payment_order_id: pathReferenceSchema().describe('MidasBuy\'s payment order id (printable, at most 255 characters, not "." or "..")')
})

const trackResponseSchema = z.object({
  payment_order_id: z.string(),
  tracking: z.enum(['started', 'resumed', 'unchanged'])
    .describe('started: newly followed; resumed: followed again after the reconciler had given up; unchanged: already followed or final'),
  reconcile_state: z.string().describe('active (followed until final) | final | abandoned | not_found_upstream'),
  order: midasbuyOrderResponseSchema.nullable().describe('null until MidasBuy has reported the order')
})

const upstreamErrors = {
  502: errorBodySchema.describe('MidasBuy could not be reached or gave an unusable answer (UPSTREAM_UNAVAILABLE, UPSTREAM_ERROR, UPSTREAM_INVALID_RESPONSE, UPSTREAM_UNAUTHORIZED)'),
  503: errorBodySchema.describe('MIDASBUY_NOT_CONFIGURED, UPSTREAM_RATE_LIMITED (with Retry-After), or the database is unavailable'),
  504: errorBodySchema.describe('UPSTREAM_TIMEOUT: MidasBuy did not answer in time')
}

/** What the mirror has of MidasBuy's for this order, or 404 when it has nothing MidasBuy reported. */
export function presentableOrNotFound (order: StoredOrder | null): StoredOrder & { upstreamUpdatedAt: Date } {
  if (order === null || !isPresentableMidasBuyOrder(order)) throw new NotFoundError()
  return order
}

/** The local order, or MidasBuy's answer fetched once and stored when the mirror has none to show. */
export async function readMidasBuyOrder (app: FastifyInstance, paymentOrderId: string, requestId: string): Promise<StoredOrder | null> {
  const local = await findOrderByReference(app.db.pool, 'midasbuy', paymentOrderId)
  // A placeholder (tracked, not yet polled) is a miss too: MidasBuy may know the order by now.
  return local !== null && isPresentableMidasBuyOrder(local) ? local : await app.orderCommands.readThrough('midasbuy', paymentOrderId, requestId)
}

/** The merchant routes for MidasBuy orders. Register inside `merchantScope` (src/plugins/auth.ts). */
export const midasbuyOrderRoutes = fp(async function midasbuyOrderRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()

  typed.get('/v1/midasbuy/orders/:payment_order_id', {
    schema: {
      tags: ['orders'],
      summary: 'One MidasBuy order, in the shape of MidasBuy\'s OrderQuery answer',
      description: 'Answers from the local mirror; an order it does not have is fetched once by OrderQuery and stored when MidasBuy ' +
        'polling is configured (502/504 when MidasBuy cannot answer). Amounts keep the scale MidasBuy sent.',
      params: paymentOrderParamsSchema,
      response: { 200: midasbuyOrderResponseSchema, 400: errorBodySchema, 404: errorBodySchema, ...upstreamErrors }
    }
  }, async (request) => presentMidasBuyOrder(presentableOrNotFound(await readMidasBuyOrder(app, request.params.payment_order_id, request.id))))

  typed.post('/v1/midasbuy/orders/:payment_order_id/sync', {
    schema: {
      tags: ['orders'],
      summary: 'Fetch one MidasBuy order by OrderQuery now, store it, and return it as stored',
      params: paymentOrderParamsSchema,
      response: {
        200: midasbuyOrderResponseSchema,
        400: errorBodySchema,
        404: errorBodySchema.describe('MidasBuy has no order with this payment_order_id'),
        ...upstreamErrors
      }
    }
  }, async (request) => presentMidasBuyOrder(presentableOrNotFound(await app.orderCommands.syncNow('midasbuy', request.params.payment_order_id, request.id))))

  typed.post('/v1/midasbuy/orders/:payment_order_id/track', {
    schema: {
      tags: ['orders'],
      summary: 'Follow a MidasBuy order known only by id until MidasBuy reports it final',
      description: 'Records the id and has the reconciler query it by OrderQuery right away, then until it is Finished or ' +
        'Refunded. Idempotent: 202 when following starts or resumes, 200 when nothing changed. `order` is null until MidasBuy ' +
        'has reported the order.',
      params: paymentOrderParamsSchema,
      response: { 200: trackResponseSchema, 202: trackResponseSchema, 400: errorBodySchema, 503: upstreamErrors[503] }
    }
  }, async (request, reply) => {
    const result = await app.orderCommands.track('midasbuy', request.params.payment_order_id)
    reply.code(result.outcome === 'unchanged' ? 200 : 202)
    return {
      payment_order_id: request.params.payment_order_id,
      tracking: result.outcome,
      reconcile_state: result.reconcileState,
      order: isPresentableMidasBuyOrder(result.order) ? presentMidasBuyOrder(result.order) : null
    }
  })
}, { name: 'midasbuy-order-routes', dependencies: ['database', 'order-commands'], encapsulate: true })
