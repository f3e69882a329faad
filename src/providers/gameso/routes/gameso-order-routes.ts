import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { NotFoundError, errorBodySchema } from '../../../errors.js'
import { findOrderByReference } from '../../../repositories/order-queries.js'
import { conditionalGet } from '../../../routes/conditional-get.js'
import { referenceParamsSchema } from '../../../routes/merchant-route-schemas.js'
import { stringifyPresented } from '../../../routes/presented-json.js'
import { gamesoOrderResponseSchema, presentGameSoOrder } from '../gameso-presenter.js'

/** GameSO's order read at GameSO's own path (SPEC §2.2). Register inside `merchantScope` (src/plugins/auth.ts). */
export const gamesoOrderRoutes = fp(async function gamesoOrderRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()

  typed.get('/v1/orders/:reference_id', {
    schema: {
      tags: ['orders'],
      summary: 'One GameSO order, exactly as GameSO\'s GET /v1/orders/{reference_id} returns it',
      description: 'Answers from the local mirror; an order it does not have is fetched once from GameSO and stored (502/504 when ' +
        'GameSO cannot answer). Carries a strong ETag; send it back in If-None-Match to get 304.',
      params: referenceParamsSchema,
      headers: z.looseObject({ 'if-none-match': z.string().optional() }),
      response: {
        200: gamesoOrderResponseSchema,
        304: z.null().describe('Not modified: the order still matches If-None-Match'),
        404: errorBodySchema,
        502: errorBodySchema,
        503: errorBodySchema,
        504: errorBodySchema
      }
    },
    onSend: conditionalGet,
    ...stringifyPresented
  }, async (request) => {
    const reference = request.params.reference_id
    const order = await findOrderByReference(app.db.pool, 'gameso', reference) ?? await app.orderCommands.readThrough('gameso', reference, request.id)
    if (order === null) throw new NotFoundError()
    return presentGameSoOrder(order)
  })
}, { name: 'gameso-order-routes', dependencies: ['database', 'order-commands'], encapsulate: true })
