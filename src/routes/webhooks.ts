import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { isDatabaseUnavailable } from '../db/database.js'
import type { Provider } from '../domain/order.js'
import { AppError, errorBodySchema } from '../errors.js'
import type { ProviderWebhook, WebhookReplies } from '../providers/provider-webhook.js'
import { observeWebhookRoute } from './webhook-observability.js'

/**
 * Status and text of a failure, for a provider that answers failures in its own shape: every
 * server-side failure (database down, no key configured, anything unexpected) becomes the one
 * status the provider retries; a refusal of the delivery itself keeps its 4xx.
 */
function describeFailure (error: FastifyError, request: FastifyRequest, provider: Provider, serverErrorStatus: number): { status: number, message: string } {
  if (error instanceof AppError) {
    if (error.statusCode >= 500) {
      request.log.warn({ err: error, provider }, 'webhook not processed')
      return { status: serverErrorStatus, message: error.message }
    }
    return { status: error.statusCode, message: error.message }
  }
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: error }, 'database unavailable')
    return { status: serverErrorStatus, message: 'Database unavailable, retry later' }
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500
  if (status >= 400 && status < 500) return { status, message: error.message }
  request.log.error({ err: error }, 'unhandled error')
  return { status: serverErrorStatus, message: 'Internal error, retry later' }
}

function responseSchemas (replies: WebhookReplies): Record<number, z.ZodType> {
  const failure = replies.failure?.schema ?? errorBodySchema
  return { 200: replies.acknowledgedSchema, ...Object.fromEntries(replies.failureStatuses.map((status) => [status, failure])) }
}

/**
 * The webhook route of one provider (SPEC §2.1), at the path its module fixes. Encapsulated,
 * because it needs the raw bytes: the signature covers the body exactly as sent, so this plugin
 * replaces the JSON parser with one that hands the handler a Buffer, and accepts no other content
 * type (415). Answers in the provider's own shapes.
 */
export function webhookRoutes (provider: { name: Provider, webhook: ProviderWebhook }) {
  const { webhook } = provider
  return fp(async function providerWebhookRoutes (app: FastifyInstance) {
    const { config } = app
    const bodyLimit = config.webhooks.bodyLimitBytes
    const ingest = app.webhookIngests.get(provider.name)
    if (ingest === undefined) throw new Error(`no webhook ingestion is built for ${provider.name}`)
    const observer = observeWebhookRoute(app, provider.name)

    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => { done(null, body) })

    const failure = webhook.replies.failure
    if (failure !== null) {
      app.setErrorHandler((error: FastifyError, request, reply) => {
        const described = describeFailure(error, request, provider.name, failure.serverErrorStatus)
        return reply.code(described.status).send(failure.body(described.message))
      })
    }

    app.withTypeProvider<ZodTypeProvider>().post(webhook.path, {
      bodyLimit,
      schema: {
        tags: ['webhooks'],
        summary: webhook.summary,
        description: webhook.describe(config),
        response: responseSchemas(webhook.replies)
      }
    }, async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const result = await ingest.ingest(body, request.headers)
      return webhook.replies.acknowledge(observer.settle(request, result))
    })
  }, { name: `${provider.name}-webhook-routes`, dependencies: ['webhook-ingest'], encapsulate: true })
}
