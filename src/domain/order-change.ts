import type { OrderItemSnapshot } from './order.js'
import type { StoredOrder, StoredOrderItem } from './stored-order.js'

// A status change carries the order as it was at that change (order_changes.order_snapshot,
// written in the change's own transaction): the columns of both read shapes, so each provider's
// presenter renders it exactly as its read route renders the live row.

export type OrderAtChangeItem = StoredOrderItem & Pick<OrderItemSnapshot, 'productId' | 'gameProductId' | 'productType' | 'currency' | 'priceAmount'>

export interface OrderAtChange extends Omit<StoredOrder, 'items'> {
  providerAttributes: Record<string, unknown> | null
  items: OrderAtChangeItem[]
}

/** The snapshot as PostgreSQL's jsonb holds it: timestamps as text, amounts as decimal strings. */
export interface OrderSnapshotJson extends Omit<OrderAtChange, 'upstreamCreatedAt' | 'upstreamUpdatedAt' | 'completedAt' | 'createdAt' | 'updatedAt'> {
  upstreamCreatedAt: string | null
  upstreamUpdatedAt: string | null
  completedAt: string | null
  createdAt: string
  updatedAt: string
}

function dateOrNull (value: string | null): Date | null {
  return value === null ? null : new Date(value)
}

export function orderAtChange (json: OrderSnapshotJson): OrderAtChange {
  return {
    ...json,
    upstreamCreatedAt: dateOrNull(json.upstreamCreatedAt),
    upstreamUpdatedAt: dateOrNull(json.upstreamUpdatedAt),
    completedAt: dateOrNull(json.completedAt),
    createdAt: new Date(json.createdAt),
    updatedAt: new Date(json.updatedAt)
  }
}
