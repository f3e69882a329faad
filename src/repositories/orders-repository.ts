import type pg from 'pg'
import type { MergeDecision } from '../domain/merge.js'
import type { OrderSnapshot, Provider, SnapshotSource } from '../domain/order.js'
import type { InboxEntry, InboxOutcome } from './inbox-repository.js'

/** A pg pool or a client inside a transaction: repositories run on whichever they are given. */
export type Queryable = pg.Pool | pg.PoolClient

/**
 * Serializes every write to one order, across connections and service instances, for the rest of
 * the transaction. A separate statement from the read that follows it, so that read's snapshot is
 * taken after the lock is held and sees the latest committed state.
 */
export async function lockOrderKey (client: pg.PoolClient, provider: Provider, reference: string): Promise<void> {
  // om_merge_snapshot takes the same lock with the same key: keep the two in step.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`order:${provider}:${reference}`])
}

/** How a webhook delivery rides along with its snapshot. */
export interface MergeInbox {
  entry: InboxEntry
  /** A replay of the stored row: counted as a replay, and its outcome is rewritten whatever it was. */
  replay: boolean
}

export interface MergeSnapshotInput {
  snapshot: OrderSnapshot
  hash: string
  source: SnapshotSource
  /** Accept a snapshot whose clock and rank equal the stored ones (an upstream re-fetch settles a tie). */
  authoritative: boolean
  /** A non-final order is next polled this long after the update. */
  staleAfterMs: number
  inbox: MergeInbox | null
}

export interface MergeSnapshotResult {
  /** decideMerge's name for what happened, or `redelivery` when these exact bytes were processed before. */
  decision: MergeDecision | 'redelivery'
  outcome: InboxOutcome
  /** The order the snapshot names, when it exists (null on a redelivery). */
  orderId: string | null
  inboxId: string | null
}

/**
 * The monotonic merge (SPEC §3): one call of om_merge_snapshot (see its migration), which takes the
 * order lock, writes the inbox row, the order (one conditional upsert), its items and the history
 * row, and names the decision — all in one implicit transaction and one round trip. Run it on the
 * pool, outside any transaction of the caller: it commits on its own before it answers.
 */
export async function mergeSnapshot (db: pg.Pool, input: MergeSnapshotInput): Promise<MergeSnapshotResult> {
  const { snapshot: s, hash, source, inbox } = input
  const items = s.items
  const result = await db.query<{ merge_decision: MergeDecision | 'redelivery', merge_outcome: InboxOutcome, merged_order_id: string | null, merged_inbox_id: string | null }>({
    name: 'om-merge-snapshot',
    text: `SELECT merge_decision, merge_outcome, merged_order_id, merged_inbox_id FROM om_merge_snapshot(
      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25,
      $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47)`,
    values: [
      s.provider, s.reference, s.providerOrderId, s.status, s.providerStatus, s.statusRank, s.isFinal,
      s.userId, s.serverId, s.characterId, s.currency, s.subtotalAmount, s.discountAmount, s.totalAmount,
      s.sourceType, s.createdBy === null || s.createdBy === undefined ? null : JSON.stringify(s.createdBy),
      s.providerAttributes === null ? null : JSON.stringify(s.providerAttributes),
      s.failureCode, s.failureMessage, s.upstreamCreatedAt, s.upstreamUpdatedAt, s.completedAt, hash, source,
      input.staleAfterMs, input.authoritative,
      items.map((item) => item.sku),
      items.map((item) => item.productId),
      items.map((item) => item.gameProductId),
      items.map((item) => item.productType),
      items.map((item) => item.quantity),
      items.map((item) => item.completedQuantity),
      items.map((item) => item.failedQuantity),
      items.map((item) => item.status),
      items.map((item) => item.currency),
      items.map((item) => item.priceAmount),
      items.map((item) => item.subtotalAmount),
      items.map((item) => item.discountAmount),
      items.map((item) => item.totalAmount),
      items.map((item) => item.failureCode),
      items.map((item) => item.failureMessage),
      inbox?.entry.body ?? null, inbox?.entry.bodySha256 ?? null, inbox ? JSON.stringify(inbox.entry.headers) : null,
      inbox?.entry.eventType ?? null, inbox?.entry.reference ?? null, inbox?.replay ?? false
    ]
  })
  const row = result.rows[0]
  if (!row) throw new Error('om_merge_snapshot returned no row')
  return { decision: row.merge_decision, outcome: row.merge_outcome, orderId: row.merged_order_id, inboxId: row.merged_inbox_id }
}

/**
 * Two snapshots tie on clock and rank but disagree: keep what is stored and have the reconciler
 * ask the upstream right away, whatever state the order is in.
 */
export async function requestRefetch (client: Queryable, orderId: string): Promise<void> {
  await client.query('SELECT om_request_refetch($1)', [orderId])
}
