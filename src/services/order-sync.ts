import { isDatabaseUnavailable, type Database } from '../db/database.js'
import type { MergeDecision } from '../domain/merge.js'
import { snapshotHash, type OrderSnapshot, type SnapshotSource } from '../domain/order.js'
import type { InboxEntry, InboxOutcome } from '../repositories/inbox-repository.js'
import { mergeBatch, type MergeDelivery, type MergeResult } from '../repositories/orders-repository.js'
import { inSpan } from '../tracing/spans.js'
import { MergeBatcher, type BatchReport } from './merge-batcher.js'

export interface ApplyOptions {
  source: SnapshotSource
  /** The verified webhook delivery this snapshot came from, stored in the same transaction. */
  inbox?: InboxEntry
  /** `inbox` is a stored row being replayed (after a fix): counted as a replay, its outcome rewritten with this result. */
  replay?: boolean
  /** An answer fetched from the upstream to settle a tie: it may replace an equal-clock snapshot. */
  authoritative?: boolean
}

/**
 * What happened: `decision` is decideMerge's name for it (`redelivery`: the exact same webhook bytes
 * were processed before, so nothing was looked at; `conflict`: a tie was found and a re-fetch
 * requested), `outcome` the inbox outcome recorded for the delivery (SPEC §2.1).
 */
export interface ApplyResult {
  decision: MergeDecision | 'redelivery'
  outcome: InboxOutcome
  /** The order the snapshot names, when it exists (null on a redelivery). */
  orderId: string | null
  inboxId: string | null
}

export interface MergeBatching {
  /** Most deliveries merged in one transaction. */
  maxBatchSize: number
  /** Most merge transactions in flight at once (each holds one pooled connection). */
  maxConcurrentBatches: number
}

// One transaction in flight: measured on two cores, a second one in flight split the same load
// into smaller batches and cost more CPU per delivery, in Node and in PostgreSQL alike.
export const DEFAULT_MERGE_BATCHING: MergeBatching = { maxBatchSize: 100, maxConcurrentBatches: 2 }

export interface OrderSyncOptions {
  batching?: MergeBatching
  /** Sees every batch: its size, how long it took to commit, and its error if it failed. */
  onBatch?: (report: BatchReport) => void
}

/** Deliveries of the same bytes would meet one inbox row twice in one statement: they go in separate batches. */
function inboxKey (delivery: MergeDelivery): string | null {
  const entry = delivery.inbox?.entry
  return entry ? `${entry.provider}:${entry.bodySha256.toString('hex')}` : null
}

/**
 * Applies upstream snapshots — from webhooks, polls, creates, syncs, read-throughs and replays
 * alike — through one path: inbox row (if any), order, items and status history commit together
 * or not at all. Deliveries that arrive while a merge is committing are merged together in the
 * next transaction (group commit, see MergeBatcher), and each is answered only after the commit
 * of its own batch, so a response sent after this returns never acknowledges something that is
 * not stored.
 */
export class OrderSync {
  private readonly batcher: MergeBatcher<MergeDelivery, MergeResult>

  constructor (db: Database, staleAfterMs: number, options: OrderSyncOptions = {}) {
    const batching = options.batching ?? DEFAULT_MERGE_BATCHING
    this.batcher = new MergeBatcher((deliveries) => mergeBatch(db.pool, deliveries, staleAfterMs), {
      ...batching,
      exclusiveKey: inboxKey,
      // An unreachable database fails every delivery alike: retrying each alone would only repeat
      // the wait for a connection, once per delivery.
      retryAlone: (error) => !isDatabaseUnavailable(error),
      ...(options.onBatch ? { onBatch: options.onBatch } : {})
    })
  }

  async applySnapshot (snapshot: OrderSnapshot, options: ApplyOptions): Promise<ApplyResult> {
    const attributes = { 'order_mirror.provider': snapshot.provider, 'order_mirror.reference': snapshot.reference, 'order_mirror.source': options.source }
    // The span covers the wait for a batch and its commit: what this snapshot's caller waits for.
    return inSpan('order.merge', attributes, async (span) => {
      const result = await this.batcher.submit({
        snapshot,
        hash: snapshotHash(snapshot),
        source: options.source,
        authoritative: options.authoritative === true,
        inbox: options.inbox ? { entry: options.inbox, replay: options.replay === true } : null
      })
      if (result.decision === null) throw new Error('a merged snapshot came back without a decision')
      span.setAttribute('order_mirror.decision', result.decision)
      return { ...result, decision: result.decision }
    })
  }

  /**
   * Stores a verified delivery that carries no snapshot to merge (unknown event, invalid payload).
   * `redelivery` is true when the same bytes were already processed: the caller answers duplicate.
   * A redelivery of bytes stored as invalid is judged again, as is a replayed row.
   */
  async recordDelivery (entry: InboxEntry, outcome: 'ignored' | 'invalid', error: string | null, options: { replayOf?: string } = {}): Promise<{ inboxId: string, redelivery: boolean }> {
    const result = await this.batcher.submit({ snapshot: null, inbox: { entry, replay: options.replayOf !== undefined }, outcome, error })
    if (result.inboxId === null) throw new Error('a recorded delivery came back without its inbox row')
    return { inboxId: result.inboxId, redelivery: result.decision === 'redelivery' }
  }
}
