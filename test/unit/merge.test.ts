import { describe, expect, it } from 'vitest'
import { decideMerge, type MergeState } from '../../src/domain/merge.js'
import { gamesoStatusRank, isFinalGameSoStatus } from '../../src/providers/gameso/gameso-mapping.js'
import { GAMESO_STATUSES, type GameSoStatus } from '../../src/providers/gameso/gameso-schemas.js'

const STORED_CLOCKS = [null, 1000, 2000] as const
const INCOMING_CLOCKS = [1000, 2000] as const
const HASHES = ['a', 'b'] as const

function state<Clock extends number | null> (status: GameSoStatus, updatedAtMs: Clock, hash: string): MergeState & { updatedAtMs: Clock } {
  return { updatedAtMs, rank: gamesoStatusRank(status), isFinal: isFinalGameSoStatus(status), hash }
}

/** The rule of SPEC §3, written independently of the implementation's branch order. */
function expected (stored: MergeState, incoming: MergeState & { updatedAtMs: number }): string {
  if (stored.isFinal && !incoming.isFinal) return 'stale'
  // A stored order without a clock is a local record no upstream has confirmed: any snapshot wins.
  if (stored.updatedAtMs === null || incoming.updatedAtMs > stored.updatedAtMs) return 'apply'
  if (incoming.updatedAtMs < stored.updatedAtMs) return 'stale'
  if (incoming.rank !== stored.rank) return incoming.rank > stored.rank ? 'apply' : 'stale'
  return incoming.hash === stored.hash ? 'duplicate' : 'conflict'
}

const storedStates = GAMESO_STATUSES.flatMap((status) => STORED_CLOCKS.flatMap((clock) => HASHES.map((hash) => ({ status, clock, hash }))))
const incomingStates = GAMESO_STATUSES.flatMap((status) => INCOMING_CLOCKS.flatMap((clock) => HASHES.map((hash) => ({ status, clock, hash }))))

describe('decideMerge over every pair of GameSO states', () => {
  it('inserts when nothing is stored', () => {
    for (const incoming of incomingStates) expect(decideMerge(null, state(incoming.status, incoming.clock, incoming.hash))).toBe('insert')
  })

  const pairs = storedStates.flatMap((stored) => incomingStates.map((incoming) => [stored, incoming] as const))
  it.each(pairs.map(([stored, incoming]) => [
    `${stored.status}@${stored.clock}#${stored.hash}`, `${incoming.status}@${incoming.clock}#${incoming.hash}`, stored, incoming
  ]))('stored %s, incoming %s', (_s, _i, stored, incoming) => {
    const storedState = state(stored.status, stored.clock, stored.hash)
    const incomingState = state(incoming.status, incoming.clock, incoming.hash)
    expect(decideMerge(storedState, incomingState)).toBe(expected(storedState, incomingState))
  })

  it('never lets a final order go back to a non-final status, even with a later clock', () => {
    for (const final of ['completed', 'failed'] as const) {
      for (const open of ['pending', 'processing'] as const) {
        expect(decideMerge(state(final, 1000, 'a'), state(open, 999_999, 'b'))).toBe('stale')
      }
    }
  })

  it('lets a later final snapshot replace another final one', () => {
    expect(decideMerge(state('completed', 1000, 'a'), state('failed', 2000, 'b'))).toBe('apply')
  })

  it('treats a tie on clock and rank with different content as a conflict, not a guess', () => {
    expect(decideMerge(state('completed', 1000, 'a'), state('failed', 1000, 'b'))).toBe('conflict')
    expect(decideMerge(state('processing', 1000, 'a'), state('processing', 1000, 'b'))).toBe('conflict')
  })

  it('lets an authoritative answer (a re-fetch) settle a tie that disagrees, and nothing else', () => {
    const authoritative = { authoritative: true }
    expect(decideMerge(state('processing', 1000, 'a'), state('processing', 1000, 'b'), authoritative)).toBe('apply')
    expect(decideMerge(state('processing', 1000, 'a'), state('processing', 1000, 'a'), authoritative)).toBe('duplicate')
    expect(decideMerge(state('processing', 2000, 'a'), state('processing', 1000, 'b'), authoritative)).toBe('stale')
    expect(decideMerge(state('completed', 1000, 'a'), state('processing', 1000, 'b'), authoritative)).toBe('stale')
  })
})
