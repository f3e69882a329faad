import type { CanonicalStatus, Provider, SnapshotSource } from '../domain/order.js'
import type { StoredOrder } from '../domain/stored-order.js'
import type { InboxOutcome } from './inbox-repository.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Queryable } from '../db/queryable.js'

// Read side of the mirror: raw pg, because reads are the hottest path and Prisma's query path
// costs several times more per statement here (shared/notes/toolchain.md). Column aliases give
// the rows their TypeScript names directly, so nothing is copied per row.

// Items ride along as one json array per order (numeric cast to text so no amount passes through
// a float), which makes an order with its items, or a whole page of them, one statement.
const ORDER_WITH_ITEMS_COLUMNS = `
  o.id, o.provider, o.reference, o.provider_order_id AS "providerOrderId", o.status,
  o.provider_status AS "providerStatus", o.user_id AS "userId", o.server_id AS "serverId",
  o.character_id AS "characterId", o.currency, o.subtotal_amount AS "subtotalAmount",
  o.discount_amount AS "discountAmount", o.total_amount AS "totalAmount", o.source_type AS "sourceType",
  o.created_by AS "createdBy", o.provider_attributes AS "providerAttributes", o.failure_code AS "failureCode", o.failure_message AS "failureMessage",
  o.upstream_created_at AS "upstreamCreatedAt", o.upstream_updated_at AS "upstreamUpdatedAt",
  o.completed_at AS "completedAt", o.created_at AS "createdAt", o.updated_at AS "updatedAt",
  COALESCE((
    SELECT json_agg(json_build_object(
      'sku', i.sku, 'productId', i.product_id, 'gameProductId', i.game_product_id, 'productType', i.product_type,
      'quantity', i.quantity, 'currency', i.currency, 'priceAmount', i.price_amount::text, 'completedQuantity', i.completed_quantity,
      'failedQuantity', i.failed_quantity, 'status', i.status,
      'subtotalAmount', i.subtotal_amount::text, 'discountAmount', i.discount_amount::text,
      'totalAmount', i.total_amount::text, 'failureCode', i.failure_code, 'failureMessage', i.failure_message
    ) ORDER BY i.position)
    FROM order_items i WHERE i.order_id = o.id
  ), '[]'::json) AS items`

// A placeholder (recorded by create or track, never confirmed upstream) that the reconciler found
// unknown to the upstream is no order at all: GameSO itself answers 404 for it, and so does the
// mirror (after one read-through, in case it exists by now).
const FIND_ORDER_BY_REFERENCE_SQL = `SELECT ${ORDER_WITH_ITEMS_COLUMNS} FROM orders o
  WHERE o.provider = $1 AND o.reference = $2
    AND NOT (o.upstream_updated_at IS NULL AND o.reconcile_state = 'not_found_upstream')`

/**
 * Named, so each pooled connection parses and plans it once: the single-order read is the hottest
 * statement of the service. Its plan is the unique (provider, reference) index whatever the values.
 */
export const FIND_ORDER_BY_REFERENCE_QUERY = { name: 'find-order-by-reference', text: FIND_ORDER_BY_REFERENCE_SQL } as const

export async function findOrderByReference (client: Queryable, provider: Provider, reference: string): Promise<StoredOrder | null> {
  const result = await client.query<StoredOrder>({ ...FIND_ORDER_BY_REFERENCE_QUERY, values: [provider, reference] })
  return result.rows[0] ?? null
}

/**
 * Position in the list: the sort key of the last order of a page. Orders no upstream has
 * reported yet have no clock (null) and come first.
 */
export interface OrderCursor {
  updatedAt: Date | null
  id: string
}

export interface OrderListFilter {
  provider?: Provider | undefined
  status?: CanonicalStatus | undefined
  userId?: string | undefined
  /** Inclusive lower bound of the upstream updated_at. */
  updatedSince?: Date | undefined
  /** Exclusive upper bound of the upstream updated_at. */
  updatedUntil?: Date | undefined
  after?: OrderCursor | undefined
  limit: number
}

export interface OrderPage {
  orders: StoredOrder[]
  /** Where the next page starts; null on the last page. */
  next: OrderCursor | null
}

/** The statement of one list page; exported so the benchmark's baseline runs exactly the same one. */
export function buildOrderListQuery (filter: OrderListFilter): { text: string, values: unknown[] } {
  const values: unknown[] = []
  const param = (value: unknown) => {
    values.push(value)
    return `$${values.length}`
  }
  const conditions: string[] = []
  if (filter.provider !== undefined) conditions.push(`provider = ${param(filter.provider)}`)
  if (filter.status !== undefined) conditions.push(`status = ${param(filter.status)}`)
  if (filter.userId !== undefined) conditions.push(`user_id = ${param(filter.userId)}`)
  if (filter.updatedSince !== undefined) conditions.push(`upstream_updated_at >= ${param(filter.updatedSince)}`)
  if (filter.updatedUntil !== undefined) conditions.push(`upstream_updated_at < ${param(filter.updatedUntil)}`)
  if (filter.after !== undefined) {
    const { updatedAt, id } = filter.after
    // Descending with NULLS FIRST is the backward scan of the (…, upstream_updated_at, id)
    // indexes; the row comparison is an index condition, so a deep page costs what the first does.
    conditions.push(updatedAt === null
      ? `((upstream_updated_at IS NULL AND id < ${param(id)}::bigint) OR upstream_updated_at IS NOT NULL)`
      : `(upstream_updated_at, id) < (${param(updatedAt)}::timestamptz, ${param(id)}::bigint)`)
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
  // One more row than asked tells whether another page follows. Items are gathered only for the
  // page's rows, after the LIMIT.
  const text = `SELECT ${ORDER_WITH_ITEMS_COLUMNS}
    FROM (SELECT * FROM orders ${where}
          ORDER BY upstream_updated_at DESC NULLS FIRST, id DESC LIMIT ${param(filter.limit + 1)}) o
    ORDER BY o.upstream_updated_at DESC NULLS FIRST, o.id DESC`
  return { text, values }
}

export async function listOrders (client: Queryable, filter: OrderListFilter): Promise<OrderPage> {
  const query = buildOrderListQuery(filter)
  const result = await client.query<StoredOrder>(query.text, query.values)
  const orders = result.rows.slice(0, filter.limit)
  const last = orders.at(-1)
  const next = result.rows.length > filter.limit && last !== undefined
    ? { updatedAt: last.upstreamUpdatedAt, id: last.id }
    : null
  return { orders, next }
}

export interface StatusChange {
  fromStatus: string | null
  toStatus: string
  fromProviderStatus: string | null
  toProviderStatus: string
  source: SnapshotSource
  inboxId: string | null
  upstreamUpdatedAt: Date | null
  changedAt: Date
}

export interface InboxDelivery {
  id: string
  eventType: string | null
  outcome: InboxOutcome
  error: string | null
  deliveryCount: number
  receivedAt: Date
  lastReceivedAt: Date
  processedAt: Date | null
}

export interface OrderHistory {
  statusChanges: StatusChange[]
  inbox: InboxDelivery[]
}

/** Bounds the history answer for a pathological order; a real one has a handful of rows. */
const HISTORY_LIMIT = 1000

/**
 * Status changes and the webhook deliveries naming the order, newest first; null for an unknown
 * order. A cold path of three simple reads, so it goes through Prisma's typed client; the hot
 * reads above stay raw pg (Prisma's query path costs several times more per statement here).
 */
export async function findOrderHistory (prisma: PrismaClient, provider: Provider, reference: string): Promise<OrderHistory | null> {
  const order = await prisma.order.findUnique({ where: { provider_reference: { provider, reference } }, select: { id: true } })
  if (order === null) return null
  const [changes, deliveries] = await Promise.all([
    prisma.orderStatusHistory.findMany({
      where: { orderId: order.id },
      orderBy: [{ changedAt: 'desc' }, { id: 'desc' }],
      take: HISTORY_LIMIT,
      select: {
        fromStatus: true,
        toStatus: true,
        fromProviderStatus: true,
        toProviderStatus: true,
        source: true,
        inboxId: true,
        upstreamUpdatedAt: true,
        changedAt: true
      }
    }),
    // By reference rather than order_id: that is indexed, and it also finds deliveries that were
    // refused as invalid before they could be linked to the order.
    prisma.webhookInbox.findMany({
      where: { provider, reference },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: HISTORY_LIMIT,
      select: {
        id: true,
        eventType: true,
        outcome: true,
        error: true,
        deliveryCount: true,
        receivedAt: true,
        lastReceivedAt: true,
        processedAt: true
      }
    })
  ])
  return {
    statusChanges: changes.map((change) => ({
      ...change,
      source: change.source as SnapshotSource,
      inboxId: change.inboxId === null ? null : change.inboxId.toString()
    })),
    inbox: deliveries.map((delivery) => ({ ...delivery, id: delivery.id.toString(), outcome: delivery.outcome as InboxOutcome }))
  }
}
