import { createHash } from 'node:crypto'

/**
 * The name of every provider, as keys. Each provider module adds its own name here (a `declare
 * module` beside its registry entry), so this pure core lists no upstream and imports nothing above it.
 */
export interface ProviderNames {}
export type Provider = keyof ProviderNames & string

/** Statuses across providers, so merchants can filter GameSO and MidasBuy orders alike. */
export const CANONICAL_STATUSES = ['pending', 'processing', 'completed', 'failed', 'refunded'] as const
export type CanonicalStatus = typeof CANONICAL_STATUSES[number]

/** Where a snapshot came from; recorded in the status history. */
export const SNAPSHOT_SOURCES = ['webhook', 'poll', 'create', 'manual', 'track'] as const
export type SnapshotSource = typeof SNAPSHOT_SOURCES[number]

export interface OrderItemSnapshot {
  sku: string | null
  productId: string | null
  gameProductId: string | null
  productType: string | null
  quantity: number
  completedQuantity: number | null
  failedQuantity: number | null
  status: string | null
  currency: string | null
  /** Decimal strings, exactly as the provider sent them. */
  priceAmount: string | null
  subtotalAmount: string | null
  discountAmount: string | null
  totalAmount: string | null
  failureCode: string | null
  failureMessage: string | null
}

/**
 * One provider's view of an order at one moment, in the mirror's canonical form. Every source
 * (webhook, poll, create answer) is turned into this before it is merged.
 */
export interface OrderSnapshot {
  provider: Provider
  reference: string
  providerOrderId: string | null
  status: CanonicalStatus
  providerStatus: string
  /** Merge rank of providerStatus; see statusRank in the provider mapping. */
  statusRank: number
  isFinal: boolean
  userId: string | null
  serverId: string | null
  characterId: string | null
  currency: string | null
  subtotalAmount: string | null
  discountAmount: string | null
  totalAmount: string | null
  sourceType: string | null
  /**
   * GameSO's created_by, kept verbatim, extra fields included. snapshotHash and the jsonb write
   * serialize it with JSON.stringify, which recurses: every GameSO order (webhook or API answer)
   * passes findUnstorableContent's depth bound before it is mapped, so that recursion stays shallow.
   */
  createdBy: unknown
  providerAttributes: Record<string, unknown> | null
  failureCode: string | null
  failureMessage: string | null
  upstreamCreatedAt: Date | null
  upstreamUpdatedAt: Date
  completedAt: Date | null
  items: OrderItemSnapshot[]
}

/**
 * Content hash of a snapshot: two snapshots with the same clock and rank but different hashes
 * disagree about the order, and the mirror asks the upstream instead of guessing.
 */
export function snapshotHash (snapshot: OrderSnapshot): string {
  const canonical = JSON.stringify([
    snapshot.provider, snapshot.reference, snapshot.providerOrderId, snapshot.status, snapshot.providerStatus,
    snapshot.userId, snapshot.serverId, snapshot.characterId, snapshot.currency,
    snapshot.subtotalAmount, snapshot.discountAmount, snapshot.totalAmount, snapshot.sourceType,
    snapshot.createdBy ?? null, snapshot.providerAttributes, snapshot.failureCode, snapshot.failureMessage,
    snapshot.upstreamCreatedAt?.toISOString() ?? null, snapshot.upstreamUpdatedAt.toISOString(),
    snapshot.completedAt?.toISOString() ?? null,
    snapshot.items.map((item) => [
      item.sku, item.productId, item.gameProductId, item.productType, item.quantity, item.completedQuantity,
      item.failedQuantity, item.status, item.currency, item.priceAmount, item.subtotalAmount,
      item.discountAmount, item.totalAmount, item.failureCode, item.failureMessage
    ])
  ])
  return createHash('sha256').update(canonical).digest('hex')
}
