import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pollBackoffMs } from '../../src/reconciler/backoff.js'

const policy = { baseMs: 60_000, maxMs: 900_000 }

describe('pollBackoffMs', () => {
  it('doubles from the base up to the cap, spread by jitter over the upper half of each step', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => pollBackoffMs(attempt, policy, () => 1))).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000])
    expect([1, 2, 3, 4, 5, 6].map((attempt) => pollBackoffMs(attempt, policy, () => 0))).toEqual([30_000, 60_000, 120_000, 240_000, 450_000, 450_000])
  })

  it('stays within [step / 2, step] and never exceeds the cap, for any attempt and draw', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 10_000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 3_600_000 }),
      fc.integer({ min: 1, max: 86_400_000 }),
      (attempt, draw, baseMs, maxMs) => {
        const delay = pollBackoffMs(attempt, { baseMs, maxMs }, () => draw)
        const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
        expect(Number.isFinite(delay)).toBe(true)
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2))
        expect(delay).toBeLessThanOrEqual(Math.min(maxMs, Math.ceil(step)))
      }
    ))
  })

  it('never shrinks as attempts grow, for the same draw', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, draw) => {
      expect(pollBackoffMs(attempt + 1, policy, () => draw)).toBeGreaterThanOrEqual(pollBackoffMs(attempt, policy, () => draw))
    }))
  })
})
