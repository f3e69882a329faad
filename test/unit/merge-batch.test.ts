import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { planMergeBatch, type BatchSnapshot } from '../../src/domain/merge-batch.js'
import { decideMerge } from '../../src/domain/merge.js'

function snapshot (orderKey: string, updatedAtMs: number, rank: number, hash: string, options: { isFinal?: boolean, authoritative?: boolean } = {}): BatchSnapshot {
  return { orderKey, state: { updatedAtMs, rank, isFinal: options.isFinal ?? rank >= 3, hash }, authoritative: options.authoritative ?? false }
}

describe('planMergeBatch', () => {
  it('keeps the newest snapshot of each order and names what every other one is', () => {
    const plan = planMergeBatch([
      snapshot('a', 1000, 1, 'a1'),
      snapshot('b', 5000, 2, 'b1'),
      snapshot('a', 2000, 2, 'a2'),
      snapshot('a', 2000, 2, 'a2'),
      snapshot('a', 2000, 2, 'a2-other'),
      snapshot('a', 1500, 3, 'a-old-final')
    ])
    expect(plan.winners).toEqual([2, 1])
    expect(plan.orderOf).toEqual([0, 1, 0, 0, 0, 0])
    expect(plan.versusWinner).toEqual(['stale', null, null, 'duplicate', 'conflict', 'stale'])
  })

  it('lets an authoritative answer settle a tie, and what it replaced is stale, not a new tie', () => {
    const plan = planMergeBatch([snapshot('a', 1000, 3, 'webhook'), snapshot('a', 1000, 3, 'poll', { authoritative: true })])
    expect(plan.winners).toEqual([1])
    expect(plan.versusWinner).toEqual(['stale', null])
  })

  it('never lets a final snapshot be replaced by a later non-final one', () => {
    const plan = planMergeBatch([snapshot('a', 1000, 3, 'done'), snapshot('a', 9000, 2, 'processing-late')])
    expect(plan.winners).toEqual([0])
    expect(plan.versusWinner).toEqual([null, 'stale'])
  })

  // The winner is what applying the batch's snapshots one after another, from nothing, leaves:
  // over arbitrary snapshots, ties and authoritative answers included.
  it('picks what applying the snapshots one by one would leave, in any arrival order', () => {
    const snapshotArbitrary = fc.record({
      orderKey: fc.constantFrom('a', 'b', 'c'),
      updatedAtMs: fc.integer({ min: 1, max: 4 }),
      rank: fc.integer({ min: 1, max: 3 }),
      hash: fc.constantFrom('x', 'y'),
      authoritative: fc.boolean()
    }).map(({ orderKey, updatedAtMs, rank, hash, authoritative }) => snapshot(orderKey, updatedAtMs, rank, hash, { authoritative }))
    fc.assert(fc.property(fc.array(snapshotArbitrary, { minLength: 1, maxLength: 12 }), (snapshots) => {
      const plan = planMergeBatch(snapshots)
      const sequential = new Map<string, number>()
      snapshots.forEach((next, index) => {
        const current = sequential.get(next.orderKey)
        if (current === undefined) return sequential.set(next.orderKey, index)
        const decision = decideMerge(snapshots[current]!.state, next.state)
        if (decision === 'apply' || (decision === 'conflict' && next.authoritative)) sequential.set(next.orderKey, index)
      })
      expect(plan.winners.map((index) => snapshots[index]!.orderKey)).toEqual([...new Set(snapshots.map((entry) => entry.orderKey))])
      expect(plan.winners).toEqual([...sequential.values()])
      snapshots.forEach((entry, index) => {
        const winner = plan.winners[plan.orderOf[index]!]!
        expect(snapshots[winner]!.orderKey).toBe(entry.orderKey)
        expect(plan.versusWinner[index] === null).toBe(winner === index)
      })
    }), { seed: 20261201, numRuns: 300 })
  })
})
