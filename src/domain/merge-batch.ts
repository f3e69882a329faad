import { decideMerge, type IncomingMergeState } from './merge.js'

/** One snapshot of a batch, as the in-batch decision sees it. */
export interface BatchSnapshot {
  /** Identifies the order: snapshots with the same key are decided among themselves. */
  orderKey: string
  state: IncomingMergeState
  /** An upstream answer fetched to settle a tie: it replaces an equal-clock snapshot that disagrees. */
  authoritative: boolean
}

/** How a snapshot that did not win its order's place in the batch relates to the one that did. */
export type VersusWinner = 'stale' | 'duplicate' | 'conflict'

export interface BatchPlan {
  /** Index (into the snapshots) of the one snapshot per order that is merged with the stored order. */
  winners: number[]
  /** For each snapshot, the index of its order in `winners`. */
  orderOf: number[]
  /** For each snapshot, null if it is its order's winner, else how it compares with the winner. */
  versusWinner: Array<VersusWinner | null>
}

function replaces (current: BatchSnapshot, next: BatchSnapshot): boolean {
  return decideMerge(current.state, next.state, { authoritative: next.authoritative }) === 'apply'
}

/**
 * Decides the snapshots of one batch among themselves, by the merge rule, in arrival order: each
 * order keeps the snapshot that applying them one after another would leave (one statement can
 * write an order only once). Every other snapshot is what it would have been then: one the winner
 * replaced later is stale; one that came after the winner is older (stale), the same (duplicate),
 * or a tie that disagrees (conflict, which asks the upstream). One the rule would take over the
 * winner after all — only possible when the batch holds snapshots that contradict each other,
 * such as two authoritative answers — counts as stale.
 */
export function planMergeBatch (snapshots: readonly BatchSnapshot[]): BatchPlan {
  const winners: number[] = []
  const orderOf: number[] = []
  const orderIndex = new Map<string, number>()
  snapshots.forEach((snapshot, index) => {
    const order = orderIndex.get(snapshot.orderKey)
    if (order === undefined) {
      orderIndex.set(snapshot.orderKey, winners.length)
      orderOf.push(winners.length)
      winners.push(index)
      return
    }
    orderOf.push(order)
    const winner = snapshots[winners[order]!]!
    if (replaces(winner, snapshot)) winners[order] = index
  })
  const versusWinner = snapshots.map((snapshot, index): VersusWinner | null => {
    const winnerIndex = winners[orderOf[index]!]!
    if (winnerIndex === index) return null
    if (index < winnerIndex) return 'stale'
    const decision = decideMerge(snapshots[winnerIndex]!.state, snapshot.state, { authoritative: snapshot.authoritative })
    return decision === 'duplicate' || decision === 'conflict' ? decision : 'stale'
  })
  return { winners, orderOf, versusWinner }
}
