import type { CanonicalStatus, OrderSnapshot } from '../../domain/order.js'
import type { MidasBuyOrder, MidasBuyStatus } from './midasbuy-schemas.js'

/** Created → pending, Paid → processing, Finished → completed, Refunded → refunded (SPEC §3). */
const CANONICAL: Record<MidasBuyStatus, CanonicalStatus> = {
  Created: 'pending',
  Paid: 'processing',
  Finished: 'completed',
  Refunded: 'refunded'
}

/** Created < Paid < Finished < Refunded (SPEC §3): a refund comes after delivery. */
const RANK: Record<MidasBuyStatus, number> = { Created: 1, Paid: 2, Finished: 3, Refunded: 4 }

const FINAL: ReadonlySet<MidasBuyStatus> = new Set(['Finished', 'Refunded'])

export function midasbuyStatusRank (status: MidasBuyStatus): number {
  return RANK[status]
}

export function isFinalMidasBuyStatus (status: MidasBuyStatus): boolean {
  return FINAL.has(status)
}

/** A validated MidasBuy order → the canonical snapshot the merge works on. Amounts keep their scale. */
export function midasbuyOrderToSnapshot (order: MidasBuyOrder): OrderSnapshot {
  return {
    provider: 'midasbuy',
    reference: order.payment_order_id,
    providerOrderId: order.payment_order_id,
    status: CANONICAL[order.order_status],
    providerStatus: order.order_status,
    statusRank: midasbuyStatusRank(order.order_status),
    isFinal: isFinalMidasBuyStatus(order.order_status),
    userId: order.user_id,
    serverId: order.server_id,
    characterId: null,
    currency: order.total_price.currency,
    subtotalAmount: null,
    discountAmount: null,
    totalAmount: order.total_price.amount,
    sourceType: null,
    createdBy: null,
    providerAttributes: {
      app_id: order.app_id,
      shop_region: order.shop_region ?? null,
      payment_channel: order.payment_channel ?? null
    },
    failureCode: null,
    failureMessage: null,
    upstreamCreatedAt: new Date(order.create_time),
    upstreamUpdatedAt: new Date(order.update_time),
    completedAt: null,
    items: order.order_items.map((item) => ({
      sku: null,
      productId: item.product_id,
      gameProductId: item.game_product_id,
      productType: item.product_type,
      quantity: Number.parseInt(item.quantity, 10),
      completedQuantity: null,
      failedQuantity: null,
      status: null,
      currency: item.price.currency,
      priceAmount: item.price.amount,
      subtotalAmount: null,
      discountAmount: null,
      totalAmount: null,
      failureCode: null,
      failureMessage: null
    }))
  }
}
