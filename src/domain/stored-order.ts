import type { OrderItemSnapshot, OrderSnapshot } from './order.js'

// What the read side hands the provider presenters: the repositories produce these, the
// presenters render them, and neither needs to know the other.

/** GameSO's `created_by`, stored verbatim. */
export interface CreatedBy {
  id: number
  name: string
  [key: string]: unknown
}

/**
 * Every provider's item columns: each presenter reads the ones its upstream's shape has. The
 * repository fills them all; the ones only MidasBuy's shape has may be left out elsewhere.
 */
export type StoredOrderItem = Pick<OrderItemSnapshot,
  'sku' | 'quantity' | 'completedQuantity' | 'failedQuantity' | 'status' | 'subtotalAmount' | 'discountAmount' |
  'totalAmount' | 'failureCode' | 'failureMessage'> &
  Partial<Pick<OrderItemSnapshot, 'productId' | 'gameProductId' | 'productType' | 'currency' | 'priceAmount'>>

/**
 * An order and its items (by position) as the read API needs them, whichever provider it is of:
 * the stored snapshot, whose upstream clock is null while no upstream has reported the order,
 * plus the mirror's own times. One repository path fills it; each provider's presenter renders it.
 */
export interface StoredOrder extends Pick<OrderSnapshot,
  'provider' | 'reference' | 'providerOrderId' | 'status' | 'providerStatus' | 'userId' | 'serverId' | 'characterId' |
  'currency' | 'subtotalAmount' | 'discountAmount' | 'totalAmount' | 'sourceType' | 'failureCode' | 'failureMessage' |
  'upstreamCreatedAt' | 'completedAt'>, Partial<Pick<OrderSnapshot, 'providerAttributes'>> {
  id: string
  createdBy: CreatedBy | null
  upstreamUpdatedAt: Date | null
  /** When the mirror recorded / last changed the row. */
  createdAt: Date
  updatedAt: Date
  items: StoredOrderItem[]
}
