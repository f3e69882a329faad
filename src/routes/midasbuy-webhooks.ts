import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { isDatabaseUnavailable } from '../db/database.js'
import { AppError } from '../errors.js'
import { observeWebhookRoute } from './webhook-observability.js'

const PROVIDER = 'midasbuy'

const processedSchema = z.object({
  processed: z.literal(true),
  message: z.enum(['applied', 'duplicate', 'stale', 'ignored']).describe('What the delivery did to the order')
}).describe('Stored; MidasBuy stops pushing this notification')

const failedSchema = z.object({
  processed: z.literal(false),
  message: z.string()
}).describe('Not processed; MidasBuy pushes it again (1 s … 168 h)')

/**
 * Status and text of a refusal, in MidasBuy's `{processed: false}` shape. Every failure MidasBuy
 * should simply retry (database down, no key configured, anything unexpected) is its documented
 * 500. A refusal of the delivery itself keeps its 4xx: MidasBuy retries any error for nine days
 * either way, which is what lets a genuine notification through once a rotated key or a parser
 * fix is in place, while 4xx keeps a sender's fault apart from an outage in dashboards and
 * alerts. A 200 would end the retries and lose the update.
 */
function describeFailure (error: FastifyError, request: FastifyRequest): { status: number, message: string } {
  if (error instanceof AppError) {
    if (error.statusCode >= 500) {
      request.log.warn({ err: error }, 'midasbuy notification not processed')
      return { status: 500, message: error.message }
    }
    return { status: error.statusCode, message: error.message }
  }
  if (isDatabaseUnavailable(error)) {
    request.log.warn({ err: error }, 'database unavailable')
    return { status: 500, message: 'Database unavailable, retry later' }
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500
  if (status >= 400 && status < 500) return { status, message: error.message }
  request.log.error({ err: error }, 'unhandled error')
  return { status: 500, message: 'Internal error, retry later' }
}

/**
 * `POST /webhooks/midasbuy/payment_notification` (SPEC §2.1). Encapsulated like the GameSO route:
 * the signature covers the body exactly as sent, so the JSON parser hands the handler a Buffer,
 * and no other content type is accepted (415). Answers in MidasBuy's `{processed, message}`.
 */
export const midasbuyWebhookRoutes = fp(async function midasbuyWebhookRoutes (app: FastifyInstance) {
  const { config } = app
  const bodyLimit = config.webhooks.bodyLimitBytes
  const ingest = app.midasbuyWebhookIngest
  const observer = observeWebhookRoute(app, PROVIDER)

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => { done(null, body) })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = describeFailure(error, request)
    return reply.code(failure.status).send({ processed: false, message: failure.message })
  })

  app.withTypeProvider<ZodTypeProvider>().post('/webhooks/midasbuy/payment_notification', {
    bodyLimit,
    schema: {
      tags: ['webhooks'],
      summary: 'MidasBuy payment notification',
      description: 'Envelope `{id, create_time, update_time, event_type, event_version, resource_type, resource_version, summary, resource}` ' +
        `as \`application/json\`, signed with RSA-SHA256 (Base64, header \`${config.midasbuy.signatureHeader}\`) over ` +
        '`Txgw-Timestamp\\nTxgw-Nonce\\nbody\\n`. A resource carrying payment_order_id and order_status is a payment order; ' +
        'anything else is stored as ignored. Stored in the inbox before the answer.',
      response: {
        200: processedSchema,
        400: failedSchema,
        401: failedSchema,
        413: failedSchema,
        415: failedSchema,
        500: failedSchema
      }
    }
  }, async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const result = await ingest.ingest(body, request.headers)
    return { processed: true as const, message: observer.settle(request, result) }
  })
}, { name: 'midasbuy-webhook-routes', dependencies: ['webhook-ingest'], encapsulate: true })
