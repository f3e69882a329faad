import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SlidingWindow } from '../../src/simulator/sliding-window.js'
import { AnswerBoundWindow } from '../../src/upstream/answer-bound-window.js'
import { propertyParameters } from '../helpers/property.js'

describe('SlidingWindow (the simulated upstream limit)', () => {
  it('admits at most `limit` events in any window, not only aligned ones', () => {
    const window = new SlidingWindow(3, 1000)
    expect([0, 100, 200, 300].map((at) => window.tryAcquire(at))).toEqual([true, true, true, false])
    expect(window.tryAcquire(999)).toBe(false)
    expect(window.tryAcquire(1000)).toBe(true)
    // 1000 took the slot of 0; the window (1, 1001] still holds 100, 200 and 1000.
    expect(window.tryAcquire(1001)).toBe(false)
    expect(window.tryAcquire(1100)).toBe(true)
  })
})

describe('AnswerBoundWindow', () => {
  it('holds a place from the send until a window after the answer', () => {
    const window = new AnswerBoundWindow(3, 1000)
    expect([0, 0, 0].map(() => window.reserve(0))).toEqual([0, 0, 0])
    // Every place waits on a request in flight: no time can be told until one is answered.
    expect(window.reserve(10)).toBeUndefined()
    window.settle(50)
    expect(window.reserve(60)).toBe(990)
    expect(window.reserve(1049)).toBe(1)
    expect(window.reserve(1050)).toBe(0)
    expect(window.held(1050)).toBe(3)
  })

  it('stretches the window by the headroom', () => {
    const window = new AnswerBoundWindow(1, 1000)
    window.reserve(0, 1.01)
    window.settle(20)
    expect(window.reserve(500, 1.01)).toBe(530)
    expect(window.reserve(1030, 1.01)).toBe(0)
  })

  it('spreads a fractional rate over a longer window', () => {
    const window = AnswerBoundWindow.perSecond(0.5)
    expect(window.limit).toBe(1)
    expect(window.reserve(0)).toBe(0)
    window.settle(0)
    expect(window.reserve(1000)).toBe(1000)
    expect(window.reserve(2000)).toBe(0)
  })

  it('waits no longer than one window when the clock steps back', () => {
    const window = new AnswerBoundWindow(2, 1000)
    window.reserve(3_600_000)
    window.reserve(3_600_000)
    window.settle(3_600_000)
    window.settle(3_600_000)
    expect(window.reserve(0)).toBe(1000)
    expect(window.reserve(1000)).toBe(0)
  })

  it('refuses to settle a request it never let go', () => {
    expect(() => new AnswerBoundWindow(1, 1000).settle(0)).toThrow(/settle without a request in flight/)
  })

  /**
   * A client that sends whenever the window allows, against an upstream that counts arrivals in a
   * sliding window of the same limit. Each request's way out, the upstream's work and the way back
   * take random times — stalls of either process included, and later requests overtaking earlier
   * ones — and the upstream still never counts more than the limit in any window.
   */
  it('never lets the upstream count more than the limit, whatever the delays on the way', () => {
    const delays = fc.record({
      outMs: fc.integer({ min: 0, max: 300 }),
      workMs: fc.integer({ min: 0, max: 50 }),
      backMs: fc.integer({ min: 0, max: 300 })
    })
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 16 }),
      fc.array(delays, { minLength: 20, maxLength: 120 }),
      (limit, concurrency, requests) => {
        const windowMs = 1000
        const client = new AnswerBoundWindow(limit, windowMs)
        const answers: number[] = []
        const arrivals: number[] = []
        let now = 0
        let sent = 0
        while (sent < requests.length || answers.length > 0) {
          answers.sort((a, b) => a - b)
          while (answers.length > 0 && (answers[0] as number) <= now) client.settle(answers.shift() as number)
          let waitMs: number | undefined
          while (sent < requests.length && answers.length < concurrency) {
            waitMs = client.reserve(now)
            if (waitMs !== 0) break
            const { outMs, workMs, backMs } = requests[sent++] as { outMs: number, workMs: number, backMs: number }
            arrivals.push(now + outMs)
            answers.push(now + outMs + workMs + backMs)
          }
          const nextAnswer = answers.length > 0 ? Math.min(...answers) : Number.POSITIVE_INFINITY
          now = Math.min(nextAnswer, waitMs === undefined || waitMs === 0 ? Number.POSITIVE_INFINITY : now + waitMs)
        }
        const upstream = new SlidingWindow(limit, windowMs)
        const refused = arrivals.sort((a, b) => a - b).filter((arrival) => !upstream.tryAcquire(arrival))
        expect(refused).toEqual([])
      }
    ), propertyParameters(300))
  })
})
