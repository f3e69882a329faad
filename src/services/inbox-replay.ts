import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import type { Provider } from '../domain/order.js'
import { listInboxRows, type InboxOutcome, type StoredInboxRow } from '../repositories/inbox-repository.js'

/**
 * Outcomes worth replaying: rows that did not change their order. `applied` and `duplicate` rows
 * already did, or had nothing to do. The partial index webhook_inbox_replayable_idx covers exactly
 * these outcomes: change both together.
 */
export const REPLAYABLE_OUTCOMES = ['invalid', 'ignored', 'stale'] as const satisfies readonly InboxOutcome[]
export type ReplayableOutcome = typeof REPLAYABLE_OUTCOMES[number]

/** Re-applies one stored row through its provider's live ingestion path. */
export type InboxRowReplayer = (row: StoredInboxRow) => Promise<{ outcome: InboxOutcome, error: string | null }>

export interface ReplayFilter {
  outcome: ReplayableOutcome
  provider?: Provider
  since?: Date
}

export interface ReplaySummary {
  examined: number
  /** How many replayed rows ended with each outcome. */
  outcomes: Partial<Record<InboxOutcome, number>>
  /** Rows of providers no replayer is registered for; left untouched. */
  skipped: number
}

const PAGE_SIZE = 200

/**
 * Replays stored inbox rows, oldest first, one at a time: each goes through the same transaction
 * a live delivery would (inbox outcome, order, items, history together), so a replay that fails
 * half-way leaves every row either replayed or as it was, and running it again is safe: an error
 * stops the run rather than skipping rows silently.
 */
export async function replayInbox (db: Database, replayers: Partial<Record<Provider, InboxRowReplayer>>, filter: ReplayFilter,
  log: FastifyBaseLogger, options: { dryRun?: boolean } = {}): Promise<ReplaySummary> {
  const summary: ReplaySummary = { examined: 0, outcomes: {}, skipped: 0 }
  let afterId: string | undefined
  for (;;) {
    const rows = await listInboxRows(db.pool, { ...filter, ...(afterId === undefined ? {} : { afterId }), limit: PAGE_SIZE })
    for (const row of rows) {
      summary.examined++
      const replayer = replayers[row.provider]
      if (!replayer) {
        summary.skipped++
        continue
      }
      if (options.dryRun) {
        log.info({ inboxId: row.id, provider: row.provider, reference: row.reference, receivedAt: row.receivedAt }, 'would replay')
        continue
      }
      const result = await replayer(row)
      summary.outcomes[result.outcome] = (summary.outcomes[result.outcome] ?? 0) + 1
      log.info({ inboxId: row.id, provider: row.provider, reference: row.reference, from: row.outcome, to: result.outcome, error: result.error }, 'replayed')
    }
    const last = rows.at(-1)
    if (rows.length < PAGE_SIZE || last === undefined) return summary
    afterId = last.id
  }
}
