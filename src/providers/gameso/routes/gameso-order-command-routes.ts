import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BadRequestError, errorBodySchema } from '../../../errors.js'
import { gamesoCreateOrderSchema } from '../gameso-create-schemas.js'
import { gamesoOrderResponseSchema, presentGameSoOrder } from '../gameso-presenter.js'
import type { RelayedAnswer } from '../../../services/order-commands.js'
import { referenceParamsSchema } from '../../../routes/merchant-route-schemas.js'

const trackResponseSchema = z.object({
  reference_id: z.string(),
  tracking: z.enum(['started', 'resumed', 'unchanged'])
    .describe('started: newly followed; resumed: followed again after the reconciler had given up; unchanged: already followed or final'),
  reconcile_state: z.string().describe('active (followed until final) | final | abandoned | not_found_upstream'),
  order: gamesoOrderResponseSchema
})

const upstreamErrors = {
  502: errorBodySchema.describe('GameSO could not be reached or gave an unusable answer (UPSTREAM_UNAVAILABLE, UPSTREAM_ERROR, UPSTREAM_INVALID_RESPONSE, UPSTREAM_UNAUTHORIZED)'),
  503: errorBodySchema.describe('GAMESO_NOT_CONFIGURED, UPSTREAM_RATE_LIMITED (with Retry-After), or the database is unavailable'),
  504: errorBodySchema.describe('UPSTREAM_TIMEOUT: GameSO did not answer in time')
}

/** GameSO answers a body that is missing or not a JSON object with BAD_REQUEST, not a field error. */
async function requireJsonObject (request: FastifyRequest): Promise<void> {
  const body: unknown = request.body
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('Request body must be a JSON object')
  }
}

/**
 * Sends GameSO's answer as GameSO sent it. A string payload is not serialized, so the merchant
 * gets GameSO's bytes rather than the mirror's re-rendering of them.
 */
function relay (reply: FastifyReply, answer: RelayedAnswer): FastifyReply {
  if (answer.retryAfterSeconds !== null) reply.header('retry-after', String(answer.retryAfterSeconds))
  return reply.code(answer.status).type(answer.contentType ?? 'application/json; charset=utf-8').send(answer.rawBody)
}

/** The merchant commands that reach GameSO. Register inside `merchantScope` (src/plugins/auth.ts). */
export const orderCommandRoutes = fp(async function orderCommandRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  const commands = app.orderCommands

  typed.post('/v1/orders', {
    preValidation: requireJsonObject,
    schema: {
      tags: ['orders'],
      summary: 'Create a GameSO order through the mirror',
      description: 'Validated like GameSO, recorded locally as pending, forwarded to GameSO with the mirror\'s own key; GameSO\'s ' +
        'answer (200, 400, 409, 429, 503, …) is returned unchanged and a created order is stored. On a timeout (504) or a ' +
        'network failure (502) the order stays recorded and the reconciler resolves it by reference.',
      body: gamesoCreateOrderSchema,
      response: {
        200: gamesoOrderResponseSchema.describe('GameSO\'s answer, unchanged: the new order, pending'),
        400: errorBodySchema.describe('BAD_REQUEST or VALIDATION_ERROR (the mirror\'s or GameSO\'s), INVALID_SKU from GameSO'),
        409: errorBodySchema.describe('DUPLICATE_REFERENCE'),
        ...upstreamErrors
      }
    }
  }, async (request, reply) => {
    const answer = await commands.create('gameso', request.body, request.log, request.id)
    return relay(reply, answer)
  })

  typed.post('/v1/orders/:reference_id/sync', {
    schema: {
      tags: ['orders'],
      summary: 'Fetch one order from GameSO now, store it, and return it as stored',
      params: referenceParamsSchema,
      response: {
        200: gamesoOrderResponseSchema,
        404: errorBodySchema.describe('GameSO has no order with this reference_id'),
        ...upstreamErrors
      }
    }
  }, async (request) => presentGameSoOrder(await commands.syncNow('gameso', request.params.reference_id, request.id)))

  typed.post('/v1/orders/:reference_id/track', {
    schema: {
      tags: ['orders'],
      summary: 'Follow an order created elsewhere until GameSO reports it final',
      description: 'Records the reference (pending until GameSO says otherwise) and has the reconciler poll it right away. ' +
        'Idempotent: 202 when following starts or resumes, 200 when nothing changed.',
      params: referenceParamsSchema,
      response: {
        200: trackResponseSchema,
        202: trackResponseSchema,
        503: upstreamErrors[503]
      }
    }
  }, async (request, reply) => {
    const result = await commands.track('gameso', request.params.reference_id)
    reply.code(result.outcome === 'unchanged' ? 200 : 202)
    return {
      reference_id: request.params.reference_id,
      tracking: result.outcome,
      reconcile_state: result.reconcileState,
      order: presentGameSoOrder(result.order)
    }
  })
}, { name: 'order-command-routes', dependencies: ['order-commands'], encapsulate: true })
