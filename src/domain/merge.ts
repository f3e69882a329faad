/**
 * The monotonic merge decision (SPEC §3), pure so it can be tested over every pair of states.
 * The database applies the same rule in SQL (om_merge_batch, in the migration
 * 20261201120000_merge_batch_function) — that is what makes it safe under concurrency; this
 * function is the specification the SQL is tested against, and decides the snapshots of one
 * order that share a batch among themselves (planMergeBatch).
 */

/** What the merge needs to know about a snapshot: its clock, its status rank, and its content. */
export interface MergeState {
  /** upstream updated_at in epoch milliseconds; null for a local record no upstream has confirmed yet. */
  updatedAtMs: number | null
  rank: number
  isFinal: boolean
  hash: string | null
}

/** An incoming snapshot always carries the upstream's clock. */
export interface IncomingMergeState extends MergeState {
  updatedAtMs: number
}

export type MergeDecision =
  /** No stored order: the snapshot creates it. */
  | 'insert'
  /** The snapshot is newer: it replaces the stored order and its items. */
  | 'apply'
  /** Same clock, rank and content as what is stored: nothing to do. */
  | 'duplicate'
  /** Older than what is stored, or a final order would go back to non-final: ignored. */
  | 'stale'
  /** Same clock and rank but different content: keep what is stored, ask the upstream. */
  | 'conflict'

export interface MergeOptions {
  /** The snapshot is the upstream's answer to a re-fetch: it settles a tie that disagrees. */
  authoritative?: boolean
}

export function decideMerge (stored: MergeState | null, incoming: IncomingMergeState, options: MergeOptions = {}): MergeDecision {
  if (stored === null) return 'insert'
  // A final status never returns to a non-final one, whatever the clocks say.
  if (stored.isFinal && !incoming.isFinal) return 'stale'
  // A local placeholder (created or tracked, never seen upstream) yields to any upstream snapshot.
  if (stored.updatedAtMs === null) return 'apply'
  if (incoming.updatedAtMs > stored.updatedAtMs) return 'apply'
  if (incoming.updatedAtMs < stored.updatedAtMs) return 'stale'
  if (incoming.rank > stored.rank) return 'apply'
  if (incoming.rank < stored.rank) return 'stale'
  if (incoming.hash === stored.hash) return 'duplicate'
  return options.authoritative === true ? 'apply' : 'conflict'
}
