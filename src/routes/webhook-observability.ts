import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { Provider } from '../domain/order.js'
import { ValidationError } from '../errors.js'
import type { AcknowledgedOutcome } from '../providers/provider-webhook.js'
import { WebhookRejectedError, type IngestResult } from '../services/webhook-ingest.js'

export interface WebhookRouteObserver {
  /**
   * Records and logs what a stored delivery came to — each envelope's outcome, for an array body —
   * and returns those outcomes; throws the 400 when any envelope is invalid.
   */
  settle (request: FastifyRequest, result: IngestResult): AcknowledgedOutcome[]
}

/**
 * What every webhook route counts and logs, whatever its provider: signature failures by reason,
 * each stored envelope by outcome, each answer's time, and one log line per envelope. The handler
 * settles every stored delivery; a response without settled outcomes was refused before storage.
 */
export function observeWebhookRoute (app: FastifyInstance, provider: Provider): WebhookRouteObserver {
  const { metrics } = app
  const outcomes = new WeakMap<FastifyRequest, readonly string[]>()

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
    const settled = outcomes.get(request) ?? [reply.statusCode >= 500 ? 'unavailable' : 'rejected']
    for (const outcome of settled) metrics.webhooksTotal.inc({ provider, outcome })
    metrics.webhookIngestSeconds.observe({ provider }, reply.elapsedTime / 1000)
  })

  return {
    settle (request, result) {
      const envelopes = result.elements ?? [result]
      outcomes.set(request, envelopes.map((envelope) => envelope.outcome))
      for (const [index, envelope] of envelopes.entries()) {
        const logged = {
          provider,
          reference: envelope.reference,
          event: envelope.eventType,
          outcome: envelope.outcome,
          inboxId: envelope.inboxId,
          orderId: envelope.orderId,
          ...(result.elements === undefined ? {} : { element: index + 1, of: envelopes.length })
        }
        if (envelope.outcome === 'invalid') request.log.warn({ ...logged, error: envelope.error }, 'webhook payload invalid, kept in the inbox for replay')
        else request.log.info(logged, 'webhook stored')
      }
      if (result.outcome === 'invalid') throw new ValidationError(result.error ?? 'invalid payload')
      return envelopes.map((envelope) => envelope.outcome as AcknowledgedOutcome)
    }
  }
}
