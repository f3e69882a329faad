import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { Provider } from '../domain/order.js'
import { WebhookRejectedError } from '../services/webhook-ingest.js'

/**
 * What every webhook route counts and logs, whatever its provider: signature failures by reason,
 * each answer by outcome, its time, and one warning per refusal. The handler records a stored
 * delivery's outcome in the returned map; a response without an entry was refused before storage.
 */
export function observeWebhookRoute (app: FastifyInstance, provider: Provider): WeakMap<FastifyRequest, string> {
  const { metrics } = app
  const outcomes = new WeakMap<FastifyRequest, string>()

  app.addHook('onError', async (request, _reply, error: FastifyError) => {
    if (error instanceof WebhookRejectedError) metrics.webhookSignatureFailuresTotal.inc({ provider, reason: error.reason })
    const statusCode = error.statusCode ?? 500
    if (statusCode < 500 && !outcomes.has(request)) {
      request.log.warn({
        provider,
        statusCode,
        code: error.code,
        ...(error instanceof WebhookRejectedError ? { reason: error.reason } : {})
      }, 'webhook refused')
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    const outcome = outcomes.get(request) ?? (reply.statusCode >= 500 ? 'unavailable' : 'rejected')
    metrics.webhooksTotal.inc({ provider, outcome })
    metrics.webhookIngestSeconds.observe({ provider }, reply.elapsedTime / 1000)
  })

  return outcomes
}
