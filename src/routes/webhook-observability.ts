import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { Provider } from '../domain/order.js'
import { ValidationError } from '../errors.js'
import type { AcknowledgedOutcome } from '../providers/provider-webhook.js'
import { WebhookRejectedError, type IngestResult } from '../services/webhook-ingest.js'

export interface WebhookRouteObserver {
  /** Records and logs what a stored delivery came to; throws the 400 for an invalid one. */
  settle (request: FastifyRequest, result: IngestResult): AcknowledgedOutcome
}

/**
 * What every webhook route counts and logs, whatever its provider: signature failures by reason,
 * each answer by outcome, its time, and one log line per delivery. The handler settles every
 * stored delivery; a response without a settled outcome was refused before storage.
 */
export function observeWebhookRoute (app: FastifyInstance, provider: Provider): WebhookRouteObserver {
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

  return {
    settle (request, result) {
      outcomes.set(request, result.outcome)
      const logged = { provider, reference: result.reference, event: result.eventType, outcome: result.outcome, inboxId: result.inboxId, orderId: result.orderId }
      if (result.outcome === 'invalid') {
        request.log.warn({ ...logged, error: result.error }, 'webhook payload invalid, kept in the inbox for replay')
        throw new ValidationError(result.error ?? 'invalid payload')
      }
      request.log.info(logged, 'webhook stored')
      return result.outcome
    }
  }
}
