import type pg from 'pg'
import { planMergeBatch } from '../domain/merge-batch.js'
import type { MergeDecision } from '../domain/merge.js'
import type { OrderSnapshot, Provider, SnapshotSource } from '../domain/order.js'
import type { InboxEntry, InboxOutcome } from './inbox-repository.js'

/**
 * Serializes every write to one order, across connections and service instances, for the rest of
 * the transaction. A separate statement from the read that follows it, so that read's snapshot is
 * taken after the lock is held and sees the latest committed state.
 */
export async function lockOrderKey (client: pg.PoolClient, provider: Provider, reference: string): Promise<void> {
  // om_merge_batch takes the same lock with the same key: keep the two in step.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`order:${provider}:${reference}`])
}

/** How a webhook delivery rides along with what it carries. */
export interface MergeInbox {
  entry: InboxEntry
  /** A replay of the stored row: counted as a replay, and its outcome is rewritten whatever it was. */
  replay: boolean
}

/** A snapshot to merge (webhook data, poll answer, create answer), with the delivery it came in, if any. */
export interface SnapshotDelivery {
  snapshot: OrderSnapshot
  hash: string
  source: SnapshotSource
  /** Accept a snapshot whose clock and rank equal the stored ones (an upstream re-fetch settles a tie). */
  authoritative: boolean
  inbox: MergeInbox | null
}

/** A verified delivery that carries no snapshot (unknown event, invalid payload): only its inbox row is written. */
export interface RecordedDelivery {
  snapshot: null
  inbox: MergeInbox
  outcome: 'ignored' | 'invalid'
  error: string | null
}

export type MergeDelivery = SnapshotDelivery | RecordedDelivery

export interface MergeResult {
  /**
   * decideMerge's name for what happened to a snapshot, `redelivery` when these exact bytes were
   * processed before (nothing was looked at), null for a delivery without a snapshot.
   */
  decision: MergeDecision | 'redelivery' | null
  outcome: InboxOutcome
  /** The order the snapshot names, when it exists (null on a redelivery and without a snapshot). */
  orderId: string | null
  inboxId: string | null
}

/** One order's place in a batch: its winning snapshot. */
interface PlannedOrder { delivery: SnapshotDelivery, snapshot: OrderSnapshot }
interface PlannedItem { order: number, position: number, item: OrderSnapshot['items'][number] }
interface PlannedDelivery { delivery: MergeDelivery, order: number | null, versusWinner: string | null }

function json (value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

// One getter per parameter array of om_merge_batch, in its order. Kept as tables of small
// functions rather than one long function building sixty arrays: V8's optimizing compiler spends
// seconds of CPU on such a function, and again after every deoptimization.
const ORDER_COLUMNS: ReadonlyArray<(order: PlannedOrder) => unknown> = [
  ({ snapshot }) => snapshot.provider,
  ({ snapshot }) => snapshot.reference,
  ({ snapshot }) => snapshot.providerOrderId,
  ({ snapshot }) => snapshot.status,
  ({ snapshot }) => snapshot.providerStatus,
  ({ snapshot }) => snapshot.statusRank,
  ({ snapshot }) => snapshot.isFinal,
  ({ snapshot }) => snapshot.userId,
  ({ snapshot }) => snapshot.serverId,
  ({ snapshot }) => snapshot.characterId,
  ({ snapshot }) => snapshot.currency,
  ({ snapshot }) => snapshot.subtotalAmount,
  ({ snapshot }) => snapshot.discountAmount,
  ({ snapshot }) => snapshot.totalAmount,
  ({ snapshot }) => snapshot.sourceType,
  ({ snapshot }) => json(snapshot.createdBy),
  ({ snapshot }) => json(snapshot.providerAttributes),
  ({ snapshot }) => snapshot.failureCode,
  ({ snapshot }) => snapshot.failureMessage,
  ({ snapshot }) => snapshot.upstreamCreatedAt,
  ({ snapshot }) => snapshot.upstreamUpdatedAt,
  ({ snapshot }) => snapshot.completedAt,
  ({ delivery }) => delivery.hash,
  ({ delivery }) => delivery.source,
  ({ delivery }) => delivery.authoritative,
  ({ snapshot }) => snapshot.items.length
]

const ITEM_COLUMNS: ReadonlyArray<(item: PlannedItem) => unknown> = [
  ({ order }) => order,
  ({ position }) => position,
  ({ item }) => item.sku,
  ({ item }) => item.productId,
  ({ item }) => item.gameProductId,
  ({ item }) => item.productType,
  ({ item }) => item.quantity,
  ({ item }) => item.completedQuantity,
  ({ item }) => item.failedQuantity,
  ({ item }) => item.status,
  ({ item }) => item.currency,
  ({ item }) => item.priceAmount,
  ({ item }) => item.subtotalAmount,
  ({ item }) => item.discountAmount,
  ({ item }) => item.totalAmount,
  ({ item }) => item.failureCode,
  ({ item }) => item.failureMessage
]

const DELIVERY_COLUMNS: ReadonlyArray<(row: PlannedDelivery) => unknown> = [
  ({ order }) => order,
  ({ versusWinner }) => versusWinner,
  ({ delivery }) => delivery.snapshot?.upstreamUpdatedAt ?? null,
  ({ delivery }) => delivery.snapshot?.statusRank ?? null,
  ({ delivery }) => delivery.snapshot?.isFinal ?? null,
  ({ delivery }) => delivery.snapshot === null ? null : delivery.hash,
  ({ delivery }) => delivery.snapshot === null ? null : delivery.authoritative,
  ({ delivery }) => delivery.inbox?.entry.provider ?? null,
  ({ delivery }) => delivery.inbox?.entry.body ?? null,
  ({ delivery }) => delivery.inbox?.entry.bodySha256 ?? null,
  ({ delivery }) => json(delivery.inbox?.entry.headers),
  ({ delivery }) => delivery.inbox?.entry.eventType ?? null,
  ({ delivery }) => delivery.inbox?.entry.reference ?? null,
  ({ delivery }) => delivery.inbox?.replay ?? false,
  ({ delivery }) => delivery.snapshot === null ? delivery.outcome : null,
  ({ delivery }) => delivery.snapshot === null ? delivery.error : null
]

function columns<Row> (rows: readonly Row[], getters: ReadonlyArray<(row: Row) => unknown>): unknown[][] {
  return getters.map((get) => rows.map(get))
}

const MERGE_BATCH_PARAMETERS = ORDER_COLUMNS.length + ITEM_COLUMNS.length + DELIVERY_COLUMNS.length + 1

/**
 * Named, so each pooled connection parses it once; the statements inside om_merge_batch keep
 * their own plans (see its migration), so this one is only the function call.
 */
const MERGE_BATCH_SQL = `SELECT delivery, merge_decision, merge_outcome, merged_order_id, merged_inbox_id
  FROM om_merge_batch(${Array.from({ length: MERGE_BATCH_PARAMETERS }, (_unused, index) => `$${index + 1}`).join(', ')})`

/** Splits a batch into what om_merge_batch takes: one winning snapshot per order, their items, every delivery. */
function planBatch (deliveries: readonly MergeDelivery[]): { orders: PlannedOrder[], items: PlannedItem[], rows: PlannedDelivery[] } {
  const withSnapshot = deliveries.flatMap((delivery) => delivery.snapshot === null ? [] : [delivery])
  const plan = planMergeBatch(withSnapshot.map((delivery) => ({
    orderKey: `${delivery.snapshot.provider}:${delivery.snapshot.reference}`,
    state: {
      updatedAtMs: delivery.snapshot.upstreamUpdatedAt.getTime(),
      rank: delivery.snapshot.statusRank,
      isFinal: delivery.snapshot.isFinal,
      hash: delivery.hash
    },
    authoritative: delivery.authoritative
  })))
  const orders = plan.winners.map((index) => {
    const delivery = withSnapshot[index]!
    return { delivery, snapshot: delivery.snapshot }
  })
  const items = orders.flatMap(({ snapshot }, orderIndex) => snapshot.items.map((item, position) => ({ order: orderIndex + 1, position, item })))
  let snapshotIndex = 0
  const rows = deliveries.map((delivery): PlannedDelivery => {
    if (delivery.snapshot === null) return { delivery, order: null, versusWinner: null }
    const index = snapshotIndex++
    return { delivery, order: plan.orderOf[index]! + 1, versusWinner: plan.versusWinner[index] ?? null }
  })
  return { orders, items, rows }
}

/**
 * The monotonic merge (SPEC §3) of a batch of deliveries in one call of om_merge_batch (see its
 * migration): it takes every order's lock in key order, then writes the orders, their items, the
 * history and the inbox rows with one set-based statement, and names each delivery's decision —
 * one implicit transaction and one round trip. Snapshots of the same order are first decided
 * among themselves (planMergeBatch). No two deliveries may carry the same inbox bytes. Run it on
 * the pool, outside any transaction of the caller: it commits on its own before it answers.
 */
export async function mergeBatch (db: pg.Pool, deliveries: readonly MergeDelivery[], staleAfterMs: number): Promise<MergeResult[]> {
  const { orders, items, rows } = planBatch(deliveries)
  const result = await db.query<{
    delivery: number
    merge_decision: MergeDecision | 'redelivery' | null
    merge_outcome: InboxOutcome
    merged_order_id: string | null
    merged_inbox_id: string | null
  }>({
    name: 'om-merge-batch',
    text: MERGE_BATCH_SQL,
    values: [...columns(orders, ORDER_COLUMNS), ...columns(items, ITEM_COLUMNS), ...columns(rows, DELIVERY_COLUMNS), staleAfterMs]
  })
  const byDelivery = new Map(result.rows.map((row) => [row.delivery, row]))
  return deliveries.map((_delivery, index) => {
    const row = byDelivery.get(index + 1)
    if (!row) throw new Error(`om_merge_batch returned no row for delivery ${index + 1}`)
    return { decision: row.merge_decision, outcome: row.merge_outcome, orderId: row.merged_order_id, inboxId: row.merged_inbox_id }
  })
}
