import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { pathReferenceSchema } from '../../../domain/identifier-schemas.js'
import { BadRequestError, NotFoundError } from '../../../errors.js'
import { errorReplyOf } from '../../../error-reply.js'
import {
  midasbuyErrorResponseSchema, midasbuyOrderResponseSchema, presentMidasBuyError, presentMidasBuyOrder
} from '../midasbuy-presenter.js'
import { presentableOrNotFound, readMidasBuyOrder } from './midasbuy-order-routes.js'

// Fields other than `id` are ignored, as a client written for MidasBuy may send more than the
// mirror needs; the id itself follows the same rules as a path's payment_order_id.
const orderQueryBodySchema = z.object({
  id: pathReferenceSchema().describe('The payment_order_id of the order to show')
})

/** Anything but a JSON object gets INVALID_ARGUMENT about the body, not a field error about a body without fields. */
async function requireJsonObject (request: FastifyRequest): Promise<void> {
  const body: unknown = request.body
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request body must be a JSON object {"id": "<payment_order_id>"}')
  }
}

/**
 * `POST /midasbuy/v2/orders`: MidasBuy's OrderQuery answered from the mirror (read-through on a
 * miss), so code written against MidasBuy works pointed at the mirror. Every error — the merchant
 * scope's 401 and 429 included — is MidasBuy's `{name, message, debug_id}`, the request id as
 * debug_id: the route's own error handler sees what the scope's hooks throw. Register it inside a
 * `merchantScope` (src/plugins/auth.ts) of its own, so no other route gets this error handler.
 */
export const midasbuyOrderQueryRoute = fp(async function midasbuyOrderQueryRoute (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, body } = errorReplyOf(error, request.log)
    return reply.code(statusCode).send(presentMidasBuyError(statusCode, body.message, request.id))
  })

  app.withTypeProvider<ZodTypeProvider>().post('/midasbuy/v2/orders', {
    preValidation: requireJsonObject,
    schema: {
      tags: ['orders'],
      summary: 'MidasBuy OrderQuery, answered from the mirror',
      description: 'A drop-in for MidasBuy\'s `POST /v2/orders`: the same body and the same answer, from the local mirror; an order ' +
        'it does not have is fetched once by OrderQuery and stored when MidasBuy polling is configured. Errors are MidasBuy\'s ' +
        '`{name, message, debug_id}`: INVALID_ARGUMENT (400), UNAUTHENTICATED (401), NOT_FOUND (404), RESOURCE_EXHAUSTED (429), ' +
        'UNAVAILABLE (502, 503), DEADLINE_EXCEEDED (504).',
      body: orderQueryBodySchema,
      response: {
        200: midasbuyOrderResponseSchema,
        400: midasbuyErrorResponseSchema,
        401: midasbuyErrorResponseSchema,
        404: midasbuyErrorResponseSchema,
        429: midasbuyErrorResponseSchema,
        502: midasbuyErrorResponseSchema,
        503: midasbuyErrorResponseSchema,
        504: midasbuyErrorResponseSchema
      }
    }
  }, async (request) => {
    const order = await readMidasBuyOrder(app, request.body.id, request.id)
    if (order === null) throw new NotFoundError(`No payment order with id ${request.body.id}`)
    return presentMidasBuyOrder(presentableOrNotFound(order))
  })
}, { name: 'midasbuy-order-query-route', dependencies: ['database', 'order-commands'], encapsulate: true })
