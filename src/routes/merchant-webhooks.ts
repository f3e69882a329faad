import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { optionalPrintableTextSchema, printableTextSchema } from '../domain/identifier-schemas.js'
import { targetPolicy } from '../domain/outbound-target.js'
import { AppError, NotFoundError, errorBodySchema } from '../errors.js'
import {
  createEndpoint, deleteEndpoint, findEndpoint, listDeliveries, listEndpoints, retryDelivery, updateEndpoint,
  type DeliveryRow, type EndpointRow
} from '../repositories/merchant-webhooks-repository.js'
import { decimalIntegerQuerySchema } from './merchant-route-schemas.js'

// GameSO's merchant-webhook API (upstream/gameso.md §5, SPEC §2.4), served by the mirror: a
// receiver written for GameSO is pointed here unchanged.

export const MERCHANT_WEBHOOK_EVENTS = ['order.pending', 'order.processing', 'order.completed', 'order.failed', '*'] as const
const DEFAULT_EVENTS = ['order.completed', 'order.failed']
const DELIVERY_PAGE_DEFAULT = 100
const DELIVERY_PAGE_MAX = 500
/** The hint shows this many characters: the secret must be longer, or the hint would be all of it. */
const SECRET_HINT_LENGTH = 8
const MIN_SECRET_LENGTH = 16

const idSchema = z.string().regex(/^[1-9]\d{0,17}$/, 'must be a positive whole number')
const endpointParamsSchema = z.object({ id: idSchema.describe('The webhook id') })
const deliveryParamsSchema = z.object({ id: idSchema.describe('The webhook id'), delivery_id: idSchema.describe('The delivery id') })

const eventsSchema = z.array(z.enum(MERCHANT_WEBHOOK_EVENTS), { error: `must be an array of ${MERCHANT_WEBHOOK_EVENTS.join(', ')}` })
  .min(1, 'must name at least one event')
  .max(MERCHANT_WEBHOOK_EVENTS.length)
  .transform((events) => [...new Set(events)])
  .describe('Events to receive: order.pending, order.processing, order.completed, order.failed, or * for every status change')

const secretSchema = printableTextSchema(512)
  .refine((secret) => secret.length >= MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`)
  .describe('Signing secret chosen by the merchant (16 to 512 printable characters); shown afterwards only as secret_hint')

const maxRetriesSchema = z.number({ error: 'must be a whole number' }).int('must be a whole number').min(0).max(20)
  .describe('Retries after the first attempt (0-20)')
const retryDelaySchema = z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1).max(86_400)
  .describe('Seconds before the first retry, doubled after each one (1-86400)')

function urlSchema (refuse: (url: string) => string | null) {
  return printableTextSchema(2048)
    .superRefine((value, context) => {
      const problem = refuse(value)
      if (problem !== null) context.addIssue({ code: 'custom', input: value, message: problem })
    })
    .describe('http(s) URL of the receiver; no credentials in it; within MERCHANT_WEBHOOK_ALLOWED_TARGETS when that is set')
}

const timestampSchema = z.string().describe('ISO-8601 UTC with milliseconds')

const endpointResponseSchema = z.object({
  id: z.number().int(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  secret_hint: z.string().describe('The first 8 characters of the secret, then "..."'),
  status: z.enum(['active', 'inactive']),
  max_retries: z.number().int(),
  retry_delay: z.number().int(),
  created_at: timestampSchema,
  updated_at: timestampSchema
}).describe('A merchant webhook, in the shape of the upstream\'s own merchant-webhook API (SPEC §2.4)')

const deliveryResponseSchema = z.object({
  id: z.number().int(),
  webhook_id: z.string().describe('The Standard Webhooks webhook-id header: the same on every attempt of this event'),
  event: z.string(),
  reference_id: z.string(),
  status: z.enum(['pending', 'delivered', 'failed', 'exhausted'])
    .describe('pending: waiting for its turn or in flight; failed: waiting for a retry; exhausted: out of retries (retry it)'),
  attempts: z.number().int(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: timestampSchema.nullable(),
  delivered_at: timestampSchema.nullable()
})

function presentEndpoint (row: EndpointRow): z.infer<typeof endpointResponseSchema> {
  return {
    id: Number(row.id),
    url: row.url,
    events: row.events,
    description: row.description,
    secret_hint: `${row.secret.slice(0, SECRET_HINT_LENGTH)}...`,
    status: row.status,
    max_retries: row.maxRetries,
    retry_delay: row.retryDelay,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString()
  }
}

function presentDelivery (row: DeliveryRow): z.infer<typeof deliveryResponseSchema> {
  return {
    id: Number(row.id),
    webhook_id: row.webhookId,
    event: row.event,
    reference_id: row.referenceId,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    delivered_at: row.deliveredAt?.toISOString() ?? null
  }
}

const notFound = () => new NotFoundError('Webhook not found')

/** Endpoint management and delivery inspection. Register inside `merchantScope` (src/plugins/auth.ts). */
export const merchantWebhookRoutes = fp(async function merchantWebhookRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  const pool = app.db.pool
  const policy = targetPolicy(app.config.merchantWebhooks.allowedTargets)
  const url = urlSchema((value) => policy.refuse(value))

  typed.post('/v1/merchant-webhooks', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'Register a webhook receiver',
      body: z.object({
        url,
        secret: secretSchema,
        events: eventsSchema.optional(),
        max_retries: maxRetriesSchema.optional(),
        retry_delay: retryDelaySchema.optional(),
        description: optionalPrintableTextSchema(500)
      }),
      response: { 201: endpointResponseSchema, 400: errorBodySchema }
    }
  }, async (request, reply) => {
    const body = request.body
    const row = await createEndpoint(pool, {
      url: body.url,
      secret: body.secret,
      events: body.events ?? DEFAULT_EVENTS,
      description: body.description ?? null,
      maxRetries: body.max_retries ?? 8,
      retryDelay: body.retry_delay ?? 60
    })
    request.log.info({ webhookId: row.id }, 'merchant webhook registered')
    return reply.code(201).send(presentEndpoint(row))
  })

  typed.get('/v1/merchant-webhooks', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'Every registered webhook (a bare array)',
      response: { 200: z.array(endpointResponseSchema) }
    }
  }, async () => (await listEndpoints(pool)).map(presentEndpoint))

  typed.get('/v1/merchant-webhooks/:id', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'One webhook',
      params: endpointParamsSchema,
      response: { 200: endpointResponseSchema, 404: errorBodySchema }
    }
  }, async (request) => {
    const row = await findEndpoint(pool, request.params.id)
    if (!row) throw notFound()
    return presentEndpoint(row)
  })

  typed.patch('/v1/merchant-webhooks/:id', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'Change a webhook\'s url, secret, events, status, max_retries or retry_delay',
      params: endpointParamsSchema,
      body: z.object({
        url: url.optional(),
        secret: secretSchema.optional(),
        events: eventsSchema.optional(),
        status: z.enum(['active', 'inactive']).optional(),
        max_retries: maxRetriesSchema.optional(),
        retry_delay: retryDelaySchema.optional(),
        description: optionalPrintableTextSchema(500)
      }).refine((body) => Object.values(body).some((value) => value !== undefined), 'must change at least one field'),
      response: { 200: endpointResponseSchema, 400: errorBodySchema, 404: errorBodySchema }
    }
  }, async (request) => {
    const body = request.body
    const row = await updateEndpoint(pool, request.params.id, {
      url: body.url,
      secret: body.secret,
      events: body.events,
      status: body.status,
      maxRetries: body.max_retries,
      retryDelay: body.retry_delay,
      ...(body.description === undefined ? {} : { description: body.description })
    })
    if (!row) throw notFound()
    if (row.status === 'active') app.merchantWebhookWorker?.wake()
    return presentEndpoint(row)
  })

  typed.delete('/v1/merchant-webhooks/:id', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'Remove a webhook and its deliveries',
      params: endpointParamsSchema,
      response: { 204: z.null().describe('Removed'), 404: errorBodySchema }
    }
  }, async (request, reply) => {
    if (!await deleteEndpoint(pool, request.params.id)) throw notFound()
    return reply.code(204).send(null)
  })

  typed.get('/v1/merchant-webhooks/:id/deliveries', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'The webhook\'s recent deliveries, newest first',
      params: endpointParamsSchema,
      querystring: z.strictObject({ limit: decimalIntegerQuerySchema(1, DELIVERY_PAGE_MAX).optional() }),
      response: { 200: z.array(deliveryResponseSchema), 404: errorBodySchema }
    }
  }, async (request) => {
    if (!await findEndpoint(pool, request.params.id)) throw notFound()
    return (await listDeliveries(pool, request.params.id, request.query.limit ?? DELIVERY_PAGE_DEFAULT)).map(presentDelivery)
  })

  typed.post('/v1/merchant-webhooks/:id/deliveries/:delivery_id/retry', {
    schema: {
      tags: ['merchant webhooks'],
      summary: 'Send a failed or exhausted delivery again now, with a fresh retry budget',
      params: deliveryParamsSchema,
      response: { 202: deliveryResponseSchema, 404: errorBodySchema, 409: errorBodySchema.describe('ALREADY_DELIVERED') }
    }
  }, async (request, reply) => {
    const outcome = await retryDelivery(pool, request.params.id, request.params.delivery_id)
    if (outcome === null) throw new NotFoundError('Delivery not found')
    if ('notRetryable' in outcome) throw new AppError(409, 'ALREADY_DELIVERED', 'The delivery was already delivered')
    app.merchantWebhookWorker?.wake()
    return reply.code(202).send(presentDelivery(outcome.retried))
  })
}, { name: 'merchant-webhook-routes', dependencies: ['database', 'merchant-webhooks'], encapsulate: true })
