import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { CANONICAL_STATUSES, SNAPSHOT_SOURCES } from '../domain/order.js'
import { printableTextSchema } from '../domain/identifier-schemas.js'
import { isoTimestampSchema } from '../domain/timestamp-schema.js'
import type { StoredOrder } from '../domain/stored-order.js'
import { NotFoundError, errorBodySchema } from '../errors.js'
import { listedOrderShape, providerNames, providers } from '../providers/index.js'
import { INBOX_OUTCOMES } from '../repositories/inbox-repository.js'
import { findOrderHistory, listOrders, type OrderCursor } from '../repositories/order-queries.js'
import { decimalIntegerQuerySchema, referenceParamsSchema } from './merchant-route-schemas.js'
import { stringifyPresented } from './presented-json.js'

const DEFAULT_PAGE_SIZE = 50
const MAX_PAGE_SIZE = 500

// ---- cursor ------------------------------------------------------------------------------------

/** Order ids are bigint: a larger id is no position in any page. */
const MAX_ORDER_ID = 9223372036854775807n

const cursorPayloadSchema = z.tuple([
  isoTimestampSchema.nullable(),
  z.string().regex(/^[1-9]\d{0,18}$/).refine((id) => BigInt(id) <= MAX_ORDER_ID)
])

/** Opaque to clients: base64url of the last row's sort key, so its format may change freely. */
export function encodeCursor (cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt?.toISOString() ?? null, cursor.id])).toString('base64url')
}

export function decodeCursor (value: string): OrderCursor | null {
  try {
    const bytes = Buffer.from(value, 'base64url')
    // Node's decoder skips characters outside the alphabet: only the exact text encodeCursor writes is a cursor.
    if (bytes.toString('base64url') !== value) return null
    const parsed = cursorPayloadSchema.safeParse(JSON.parse(bytes.toString('utf8')))
    if (!parsed.success) return null
    const [updatedAt, id] = parsed.data
    return { updatedAt: updatedAt === null ? null : new Date(updatedAt), id }
  } catch {
    return null
  }
}

const cursorSchema = z.string().max(200).transform((value, context) => {
  const cursor = decodeCursor(value)
  if (cursor === null) {
    context.issues.push({ code: 'custom', input: value, message: 'invalid cursor: pass next_cursor from the previous page unchanged' })
    return z.NEVER
  }
  return cursor
})

// ---- schemas -----------------------------------------------------------------------------------

const listQuerySchema = z.strictObject({
  provider: z.enum(providerNames).optional(),
  status: z.enum(CANONICAL_STATUSES).optional(),
  user_id: printableTextSchema().optional(),
  updated_since: isoTimestampSchema.optional().describe('Orders whose upstream updated_at is at or after this instant'),
  updated_until: isoTimestampSchema.optional().describe('Orders whose upstream updated_at is before this instant'),
  limit: decimalIntegerQuerySchema(1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorSchema.optional().describe('next_cursor of the previous page')
}).refine((query) => query.updated_since === undefined || query.updated_until === undefined ||
  Date.parse(query.updated_since) < Date.parse(query.updated_until), {
  path: ['updated_until'],
  message: 'must be later than updated_since'
})

const listedOrderSchema = z.object({
  provider: z.enum(providerNames),
  currency: z.string().nullable(),
  ...listedOrderShape.schema.shape
})

const orderPageSchema = z.object({
  data: z.array(listedOrderSchema),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page')
}).describe('Newest first, by upstream updated_at then id; orders not yet reported by their upstream come first')

const historyQuerySchema = z.strictObject({
  // The order GET /v1/orders/{reference_id} shows is the first provider's.
  provider: z.enum(providerNames).default(providers[0].name)
})

const historySchema = z.object({
  provider: z.enum(providerNames),
  reference_id: z.string(),
  status_changes: z.array(z.object({
    from: z.string().nullable(),
    to: z.string(),
    from_provider_status: z.string().nullable(),
    to_provider_status: z.string(),
    source: z.enum(SNAPSHOT_SOURCES),
    changed_at: z.string(),
    upstream_updated_at: z.string().nullable(),
    inbox_id: z.string().nullable()
  })).describe('Newest first'),
  inbox: z.array(z.object({
    id: z.string(),
    event_type: z.string().nullable(),
    outcome: z.enum(INBOX_OUTCOMES),
    error: z.string().nullable(),
    delivery_count: z.number().int(),
    received_at: z.string(),
    last_received_at: z.string(),
    processed_at: z.string().nullable()
  })).describe('Webhook deliveries naming the order, newest first')
})

// ---- presentation ------------------------------------------------------------------------------

function presentListedOrder (order: StoredOrder): z.infer<typeof listedOrderSchema> {
  return { provider: order.provider, currency: order.currency, ...listedOrderShape.present(order) }
}

// ---- routes ------------------------------------------------------------------------------------

/** The merchant list and history of orders of every provider. Register inside `merchantScope` (src/plugins/auth.ts). */
export const orderRoutes = fp(async function orderRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()

  typed.get('/v1/orders', {
    schema: {
      tags: ['orders'],
      summary: 'List and search orders, newest first, with cursor pagination',
      description: `Filters combine with AND. Page size ${DEFAULT_PAGE_SIZE} by default, at most ${MAX_PAGE_SIZE}. ` +
        `Each entry is the ${listedOrderShape.name} order shape plus \`provider\` and \`currency\`.`,
      querystring: listQuerySchema,
      response: { 200: orderPageSchema, 400: errorBodySchema }
    },
    ...stringifyPresented
  }, async (request) => {
    const query = request.query
    const page = await listOrders(app.db.pool, {
      provider: query.provider,
      status: query.status,
      userId: query.user_id,
      updatedSince: query.updated_since === undefined ? undefined : new Date(query.updated_since),
      updatedUntil: query.updated_until === undefined ? undefined : new Date(query.updated_until),
      after: query.cursor,
      limit: query.limit
    })
    return { data: page.orders.map(presentListedOrder), next_cursor: page.next === null ? null : encodeCursor(page.next) }
  })

  typed.get('/v1/orders/:reference_id/history', {
    schema: {
      tags: ['orders'],
      summary: 'Status changes of an order and the webhook deliveries that named it',
      params: referenceParamsSchema,
      querystring: historyQuerySchema,
      response: { 200: historySchema, 400: errorBodySchema, 404: errorBodySchema }
    }
  }, async (request) => {
    const { reference_id: reference } = request.params
    const { provider } = request.query
    const history = await findOrderHistory(app.db.prisma, provider, reference)
    if (history === null) throw new NotFoundError()
    return {
      provider,
      reference_id: reference,
      status_changes: history.statusChanges.map((change) => ({
        from: change.fromStatus,
        to: change.toStatus,
        from_provider_status: change.fromProviderStatus,
        to_provider_status: change.toProviderStatus,
        source: change.source,
        changed_at: change.changedAt.toISOString(),
        upstream_updated_at: change.upstreamUpdatedAt?.toISOString() ?? null,
        inbox_id: change.inboxId
      })),
      inbox: history.inbox.map((delivery) => ({
        id: delivery.id,
        event_type: delivery.eventType,
        outcome: delivery.outcome,
        error: delivery.error,
        delivery_count: delivery.deliveryCount,
        received_at: delivery.receivedAt.toISOString(),
        last_received_at: delivery.lastReceivedAt.toISOString(),
        processed_at: delivery.processedAt?.toISOString() ?? null
      }))
    }
  })
}, { name: 'order-routes', dependencies: ['database'], encapsulate: true })
