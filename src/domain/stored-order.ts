import type { OrderItemSnapshot, OrderSnapshot } from './order.js'

// What the read side hands the provider presenters: the repositories produce these, the
// presenters render them, and neither needs to know the other.

/** GameSO's `created_by`, stored verbatim. */
export interface CreatedBy {
  id: number
  name: string
  [key: string]: unknown
}

export type StoredOrderItem = Pick<OrderItemSnapshot,
  'sku' | 'quantity' | 'completedQuantity' | 'failedQuantity' | 'status' | 'subtotalAmount' | 'discountAmount' |
  'totalAmount' | 'failureCode' | 'failureMessage'>

/**
 * An order and its items (by position) as the read API needs them: the stored snapshot, whose
 * upstream clock is null while no upstream has reported the order, plus the mirror's own times.
 */
export interface StoredOrder extends Pick<OrderSnapshot,
  'provider' | 'reference' | 'providerOrderId' | 'status' | 'providerStatus' | 'userId' | 'serverId' | 'characterId' |
  'currency' | 'subtotalAmount' | 'discountAmount' | 'totalAmount' | 'sourceType' | 'failureCode' | 'failureMessage' |
  'upstreamCreatedAt' | 'completedAt'> {
  id: string
  createdBy: CreatedBy | null
  upstreamUpdatedAt: Date | null
  /** When the mirror recorded / last changed the row. */
  createdAt: Date
  updatedAt: Date
  items: StoredOrderItem[]
}

// MidasBuy's OrderQuery shape needs columns the GameSO-shaped StoredOrder leaves out (provider
// attributes, product ids, unit prices).

export interface StoredMidasBuyItem {
  productId: string | null
  gameProductId: string | null
  productType: string | null
  quantity: number
  currency: string | null
  priceAmount: string | null
}

export interface StoredMidasBuyOrder {
  reference: string
  providerStatus: string
  userId: string | null
  serverId: string | null
  currency: string | null
  totalAmount: string | null
  providerAttributes: Record<string, unknown> | null
  upstreamCreatedAt: Date | null
  upstreamUpdatedAt: Date
  items: StoredMidasBuyItem[]
}
