import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { observeWebhookRoute } from './webhook-observability.js'

const PROVIDER = 'gameso'

const errorBodySchema = z.object({ status: z.number().int(), code: z.string(), message: z.string() })

const receivedSchema = z.object({
  received: z.literal(true),
  outcome: z.enum(['applied', 'duplicate', 'stale', 'ignored'])
}).describe('The delivery is stored; `outcome` says what it did to the order')

/**
 * `POST /webhooks/gameso` (SPEC §2.1). Encapsulated, because it needs the raw bytes: the signature
 * covers the body exactly as sent, so this plugin replaces the JSON parser with one that hands
 * the handler a Buffer, and accepts no other content type (415).
 */
export const webhookRoutes = fp(async function webhookRoutes (app: FastifyInstance) {
  const { config } = app
  const bodyLimit = config.webhooks.bodyLimitBytes
  const ingest = app.gamesoWebhookIngest
  const observer = observeWebhookRoute(app, PROVIDER)

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => { done(null, body) })

  app.withTypeProvider<ZodTypeProvider>().post('/webhooks/gameso', {
    bodyLimit,
    schema: {
      tags: ['webhooks'],
      summary: 'GameSO order webhook',
      description: `Body \`{event, timestamp, data: <order>}\` as \`application/json\`, signed with HMAC-SHA256 over the raw bytes in header \`${config.gameso.signatureHeader}\` (hex or base64, optional \`sha256=\`). Stored in the inbox before the answer.`,
      response: {
        200: receivedSchema,
        400: errorBodySchema,
        401: errorBodySchema,
        413: errorBodySchema,
        415: errorBodySchema,
        503: errorBodySchema
      }
    }
  }, async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const result = await ingest.ingest(body, request.headers)
    return { received: true as const, outcome: observer.settle(request, result) }
  })
}, { name: 'gameso-webhook-routes', dependencies: ['webhook-ingest'], encapsulate: true })
