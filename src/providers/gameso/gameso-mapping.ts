import type { CanonicalStatus, OrderSnapshot } from '../../domain/order.js'
import type { GameSoOrder, GameSoStatus } from './gameso-schemas.js'

/** GameSO amounts are Thai baht (upstream/gameso.md §3). */
export const GAMESO_CURRENCY = 'THB'

/** pending < processing < completed = failed (SPEC §3). */
const RANK: Record<GameSoStatus, number> = { pending: 1, processing: 2, completed: 3, failed: 3 }
const FINAL: ReadonlySet<GameSoStatus> = new Set(['completed', 'failed'])

export function gamesoStatusRank (status: GameSoStatus): number {
  return RANK[status]
}

export function isFinalGameSoStatus (status: GameSoStatus): boolean {
  return FINAL.has(status)
}

/** A validated GameSO order → the canonical snapshot the merge works on. */
export function gamesoOrderToSnapshot (order: GameSoOrder): OrderSnapshot {
  return {
    provider: 'gameso',
    reference: order.reference_id,
    providerOrderId: order.order_number,
    status: order.status satisfies CanonicalStatus,
    providerStatus: order.status,
    statusRank: gamesoStatusRank(order.status),
    isFinal: isFinalGameSoStatus(order.status),
    userId: order.user_id,
    serverId: order.server_id ?? null,
    characterId: order.character_id ?? null,
    currency: GAMESO_CURRENCY,
    subtotalAmount: order.subtotal_amount,
    discountAmount: order.discount_amount,
    totalAmount: order.total_amount,
    sourceType: order.source_type ?? null,
    createdBy: order.created_by ?? null,
    providerAttributes: null,
    failureCode: order.failure_code ?? null,
    failureMessage: order.failure_message ?? null,
    upstreamCreatedAt: new Date(order.created_at),
    upstreamUpdatedAt: new Date(order.updated_at),
    completedAt: order.completed_at ? new Date(order.completed_at) : null,
    items: order.items.map((item) => ({
      sku: item.sku,
      productId: null,
      gameProductId: null,
      productType: null,
      quantity: item.quantity,
      completedQuantity: item.completed_quantity,
      failedQuantity: item.failed_quantity,
      status: item.status,
      currency: GAMESO_CURRENCY,
      priceAmount: null,
      subtotalAmount: item.subtotal_amount,
      discountAmount: item.discount_amount,
      totalAmount: item.total_amount,
      failureCode: item.failure_code ?? null,
      failureMessage: item.failure_message ?? null
    }))
  }
}
