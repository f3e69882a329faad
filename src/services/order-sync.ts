import type pg from 'pg'
import type { Database } from '../db/database.js'
import { decideMerge, type MergeDecision } from '../domain/merge.js'
import { snapshotHash, type OrderSnapshot, type SnapshotSource } from '../domain/order.js'
import { insertInboxEntry, markInboxReplayed, setInboxOutcome, type InboxEntry, type InboxOutcome } from '../repositories/inbox-repository.js'
import { findMergeState, lockOrderKey, requestRefetch, writeSnapshot } from '../repositories/orders-repository.js'

export interface ApplyOptions {
  source: SnapshotSource
  /** The verified webhook delivery this snapshot came from, stored in the same transaction. */
  inbox?: InboxEntry
  /** A stored inbox row being replayed (after a fix): its outcome is rewritten with this result. */
  replayOf?: string
  /** An answer fetched from the upstream to settle a tie: it may replace an equal-clock snapshot. */
  authoritative?: boolean
}

export interface ApplyResult {
  /**
   * What happened to the order. `redelivery` means the exact same webhook bytes were already in
   * the inbox, so nothing was looked at; `conflict` means a tie was found and a re-fetch requested.
   */
  decision: MergeDecision | 'redelivery'
  /** The inbox outcome recorded for the delivery (SPEC §2.1). */
  outcome: InboxOutcome
  orderId: string | null
  inboxId: string | null
}

const CONFLICT_NOTE = 'equal updated_at and status rank but different content: kept the stored snapshot, upstream re-fetch requested'

function outcomeOf (decision: MergeDecision): { outcome: InboxOutcome, error: string | null } {
  switch (decision) {
    case 'insert':
    case 'apply':
      return { outcome: 'applied', error: null }
    case 'duplicate':
      return { outcome: 'duplicate', error: null }
    case 'stale':
      return { outcome: 'stale', error: null }
    case 'conflict':
      return { outcome: 'stale', error: CONFLICT_NOTE }
  }
}

export async function inTransaction<T> (db: Database, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/**
 * Applies upstream snapshots — from webhooks, polls and create answers alike — through one path:
 * inbox row (if any), order, items and status history commit together or not at all, so a
 * response sent after this returns never acknowledges something that is not stored.
 */
export class OrderSync {
  constructor (private readonly db: Database, private readonly staleAfterMs: number) {}

  async applySnapshot (snapshot: OrderSnapshot, options: ApplyOptions): Promise<ApplyResult> {
    const hash = snapshotHash(snapshot)
    return inTransaction(this.db, async (client) => {
      let inboxId: string | null = null
      // The row was stored earlier with another outcome, so this transaction must overwrite it.
      let rewritesInbox = false
      if (options.replayOf !== undefined) {
        await markInboxReplayed(client, options.replayOf)
        inboxId = options.replayOf
        rewritesInbox = true
      } else if (options.inbox) {
        const stored = await insertInboxEntry(client, options.inbox, 'applied')
        // Bytes refused as invalid before were never applied: the sender retrying them after a
        // fix must get them applied, not a "duplicate" that acknowledges a lost update.
        if (!stored.inserted && stored.outcome !== 'invalid') return { decision: 'redelivery', outcome: 'duplicate', orderId: null, inboxId: stored.id }
        inboxId = stored.id
        rewritesInbox = !stored.inserted
      }

      await lockOrderKey(client, snapshot.provider, snapshot.reference)
      const previous = await findMergeState(client, snapshot.provider, snapshot.reference)
      const authoritative = options.authoritative === true
      let decision = decideMerge(previous, {
        updatedAtMs: snapshot.upstreamUpdatedAt.getTime(),
        rank: snapshot.statusRank,
        isFinal: snapshot.isFinal,
        hash
      })
      if (decision === 'conflict' && authoritative) decision = 'apply'

      let orderId = previous?.id ?? null
      if (decision === 'insert' || decision === 'apply') {
        const written = await writeSnapshot(client, {
          snapshot, hash, source: options.source, previous, authoritative, staleAfterMs: this.staleAfterMs, inboxId
        })
        // Under the order lock the SQL condition and decideMerge agree; if they ever did not, the
        // database's verdict is the one that holds.
        if (written === null) decision = 'stale'
        else orderId = written
      } else if (decision === 'conflict' && orderId !== null) {
        await requestRefetch(client, orderId)
      }

      const { outcome, error } = outcomeOf(decision)
      if (inboxId !== null && (rewritesInbox || outcome !== 'applied' || orderId === null)) {
        await setInboxOutcome(client, inboxId, outcome, error, orderId)
      }
      return { decision, outcome, orderId, inboxId }
    })
  }

  /**
   * Stores a verified delivery that carries no snapshot to merge (unknown event, invalid payload).
   * `redelivery` is true when the same bytes were already processed: the caller answers duplicate.
   * A redelivery of bytes stored as invalid is judged again, as is a replayed row.
   */
  async recordDelivery (entry: InboxEntry, outcome: 'ignored' | 'invalid', error: string | null, options: { replayOf?: string } = {}): Promise<{ inboxId: string, redelivery: boolean }> {
    const { replayOf } = options
    if (replayOf !== undefined) {
      await inTransaction(this.db, async (client) => {
        await markInboxReplayed(client, replayOf)
        await setInboxOutcome(client, replayOf, outcome, error, null)
      })
      return { inboxId: replayOf, redelivery: false }
    }
    const stored = await insertInboxEntry(this.db.pool, entry, outcome, error)
    if (stored.inserted) return { inboxId: stored.id, redelivery: false }
    if (stored.outcome !== 'invalid') return { inboxId: stored.id, redelivery: true }
    await setInboxOutcome(this.db.pool, stored.id, outcome, error, null)
    return { inboxId: stored.id, redelivery: false }
  }
}
