import type pg from 'pg'
import type { Database } from '../db/database.js'
import { snapshotHash, type OrderSnapshot, type SnapshotSource } from '../domain/order.js'
import { insertInboxEntry, markInboxReplayed, setInboxOutcome, type InboxEntry } from '../repositories/inbox-repository.js'
import { mergeSnapshot, type MergeSnapshotResult } from '../repositories/orders-repository.js'

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
export type ApplyResult = MergeSnapshotResult

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
 * inbox row (if any), order, items and status history commit together or not at all (one call of
 * om_merge_snapshot), so a response sent after this returns never acknowledges something that is
 * not stored.
 */
export class OrderSync {
  constructor (private readonly db: Database, private readonly staleAfterMs: number) {}

  async applySnapshot (snapshot: OrderSnapshot, options: ApplyOptions): Promise<ApplyResult> {
    return mergeSnapshot(this.db.pool, {
      snapshot,
      hash: snapshotHash(snapshot),
      source: options.source,
      authoritative: options.authoritative === true,
      staleAfterMs: this.staleAfterMs,
      inbox: options.inbox ? { entry: options.inbox, replay: options.replay === true } : null
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
