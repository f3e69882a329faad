import { describe, expect, it } from 'vitest'
import { RateHeadroom } from '../../src/upstream/rate-headroom.js'
import { parseRetryAfterMs } from '../../src/upstream/retry-after.js'
import { UpstreamThrottle, type ThrottleOptions, type Turn } from '../../src/upstream/throttle.js'
import type { CallPriority } from '../../src/upstream/upstream-client.js'
import type { UpstreamCall } from '../../src/upstream/upstream-errors.js'
import { ManualClock } from '../helpers/manual-clock.js'

const CALL: UpstreamCall = { provider: 'test', upstream: 'Test', operation: 'get_order' }

describe('parseRetryAfterMs', () => {
  it.each([
    ['5', 5000],
    ['0', 0],
    ['1.5', 1500],
    ['Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['soon', null],
    ['', null],
    [null, null]
  ])('reads %j', (value, expected) => {
    expect(parseRetryAfterMs(value, Date.parse('2015-10-21T07:28:00Z'))).toBe(expected)
  })
})

describe('RateHeadroom', () => {
  it('widens after a 429 and drifts back as answers come', () => {
    const headroom = new RateHeadroom()
    expect(headroom.windowStretch).toBe(1.01)
    headroom.rateLimited()
    headroom.rateLimited()
    expect(headroom.share).toBeCloseTo(0.04)
    for (let answer = 0; answer < 2000; answer++) headroom.answered()
    // 1/2000 of the excess per answer: about 1/e of the 3 % excess is left.
    expect(headroom.share).toBeCloseTo(0.01 + 0.03 / Math.E, 3)
    for (let doubling = 0; doubling < 10; doubling++) headroom.rateLimited()
    expect(headroom.share).toBe(0.25)
  })
})

describe('UpstreamThrottle', () => {
  function throttle (overrides: Partial<ThrottleOptions> = {}) {
    const clock = new ManualClock(0)
    const warnings: unknown[] = []
    const created = new UpstreamThrottle({
      provider: 'test',
      upstream: 'Test',
      maxRequestsPerSecond: 10,
      maxConcurrency: 2,
      log: { warn: (object: unknown) => { warnings.push(object) } } as unknown as ThrottleOptions['log'],
      clock,
      ...overrides
    })
    /** Records when each task starts and leaves it running until the test settles it. */
    const started: Array<{ name: string, at: number, turn: Turn, finish: () => void }> = []
    function run (name: string, priority: CallPriority = 'background', extra: { sendBy?: number, signal?: AbortSignal } = {}) {
      const result = created.run(CALL, { priority, sendBy: extra.sendBy, signal: extra.signal }, (turn) => new Promise<string>((resolve) => {
        started.push({ name, at: clock.now(), turn, finish: () => resolve(name) })
      }))
      result.catch(() => {})
      return result
    }
    return { clock, throttle: created, run, started, warnings }
  }

  it('lets interactive calls go first and keeps a slot for them', async () => {
    const { clock, run, started } = throttle({ maxRequestsPerSecond: 1000, maxConcurrency: 3 })
    for (const name of ['b1', 'b2', 'b3', 'b4']) run(name)
    await clock.advance(10)
    // Background work may take two of the three slots, never the third.
    expect(started.map((task) => task.name)).toEqual(['b1', 'b2'])
    run('i1', 'interactive')
    await clock.advance(10)
    expect(started.map((task) => task.name)).toEqual(['b1', 'b2', 'i1'])
    run('i2', 'interactive')
    started[0]?.finish()
    await clock.advance(10)
    // The freed slot goes to the interactive call queued after the background ones.
    expect(started.map((task) => task.name)).toEqual(['b1', 'b2', 'i1', 'i2'])
  })

  it('spaces sends evenly, catches up at most 100 ms after a late one, and starts afresh after a quiet spell', async () => {
    const { clock, run, started, throttle: gate } = throttle({ maxRequestsPerSecond: 100, maxConcurrency: 1000 })
    for (let call = 0; call < 5; call++) run(`a${call}`)
    await clock.advance(40)
    expect(started.map((task) => task.at)).toEqual([0, 10, 20, 30, 40])
    for (const task of started) task.finish()
    await clock.advance(1000)

    // Quiet for a second: the next five are spaced from now, not released together.
    for (let call = 0; call < 5; call++) run(`b${call}`)
    await clock.advance(40)
    expect(started.slice(5).map((task) => task.at)).toEqual([1040, 1050, 1060, 1070, 1080])

    // A 300 ms stall: the sends behind it catch up 100 ms worth (10) at once, no more.
    for (const task of started) task.finish()
    await clock.advance(1000)
    const from = started.length
    for (let call = 0; call < 40; call++) run(`c${call}`)
    await clock.advance(0)
    await clock.stall(300)
    const at = started.slice(from).map((task) => task.at - 2080)
    expect(at).toEqual([0, ...Array(11).fill(300)])
    await clock.advance(10)
    expect(started.length - from).toBe(13)
    expect(gate.state().queued).toBe(27)
  })

  it('holds each place for its round trip: against an upstream 300 ms away, 20/s becomes 20 ÷ 1.31', async () => {
    const { clock, throttle: gate } = throttle({ maxRequestsPerSecond: 20, maxConcurrency: 10 })
    const sentAt: number[] = []
    const calls = Array.from({ length: 400 }, () => gate.run(CALL, { priority: 'background', sendBy: undefined, signal: undefined }, async (turn) => {
      sentAt.push(clock.now())
      await clock.sleep(300)
      turn.answered()
    }))
    // The close below refuses the calls still queued: settled here, so none goes unhandled.
    const settled = Promise.allSettled(calls)
    await clock.advance(20_000)
    // A place frees a window (1 s + 1 % headroom) after its answer, 300 ms after its send: 20 places
    // per 1.31 s, whatever the concurrency allows.
    const inSteadyState = sentAt.filter((at) => at >= 10_000 && at < 20_000).length
    expect(inSteadyState).toBeGreaterThanOrEqual(150)
    expect(inSteadyState).toBeLessThanOrEqual(154)
    gate.close()
    // The requests in flight are answered; the queued ones were refused by the close.
    await clock.advance(300)
    await settled
  })

  it('holds calls through a 429 pause, probes once, then resumes', async () => {
    const { clock, run, started, throttle: gate, warnings } = throttle({ maxRequestsPerSecond: 1000, maxConcurrency: 4 })
    run('first')
    await clock.advance(1)
    started[0]?.turn.rateLimited(500)
    started[0]?.finish()
    expect(warnings).toEqual([{ provider: 'test', pauseMs: 500, reason: 'rate_limited', detail: undefined, consecutiveFailures: 0 }])
    for (const name of ['a', 'b', 'c']) run(name)
    await clock.advance(499)
    expect(started).toHaveLength(1)
    expect(gate.state()).toMatchObject({ pauseReason: 'rate_limited', pausedForMs: 1, queued: 3, rateHeadroom: 0.02 })
    await clock.advance(1)
    expect(started.map((task) => task.name)).toEqual(['first', 'a'])
    await clock.advance(10_000)
    expect(started).toHaveLength(2)
    started[1]?.turn.answered()
    started[1]?.finish()
    await clock.advance(10)
    expect(started.map((task) => task.name)).toEqual(['first', 'a', 'b', 'c'])
  })

  it('refuses at once, unsent, the calls whose send-by time a pause outlasts', async () => {
    const { clock, run, started } = throttle({ maxRequestsPerSecond: 1000 })
    run('first')
    await clock.advance(1)
    const late = run('late', 'background', { sendBy: clock.now() + 200 })
    const patient = run('patient', 'background', { sendBy: clock.now() + 2000 })
    started[0]?.turn.rateLimited(1000)
    await expect(late).rejects.toMatchObject({ name: 'UpstreamRateLimitedError', sent: false, retryAfterMs: 1000, provider: 'test' })
    await expect(run('new', 'background', { sendBy: clock.now() + 999 })).rejects.toMatchObject({ sent: false })
    started[0]?.finish()
    await clock.advance(1000)
    expect(started.map((task) => task.name)).toEqual(['first', 'patient'])
    started[1]?.finish()
    expect(await patient).toBe('patient')
  })

  it('does not let failures of requests sent before a pause grow it', async () => {
    const { clock, run, started, throttle: gate } = throttle({ maxRequestsPerSecond: 1000, maxConcurrency: 3, failureBackoffBaseMs: 100 })
    for (const name of ['a', 'b', 'c']) run(name, 'interactive')
    await clock.advance(5)
    for (const task of started) task.turn.failed('ECONNRESET')
    expect(gate.state()).toMatchObject({ consecutiveFailures: 1, pausedForMs: 100 })
  })

  it('rejects queued calls on close and refuses new ones, all unsent', async () => {
    const { clock, run, started, throttle: gate } = throttle({ maxConcurrency: 1 })
    run('running')
    const queued = run('queued')
    await clock.advance(1)
    gate.close()
    await expect(queued).rejects.toMatchObject({ name: 'UpstreamUnavailableError', sent: false, message: 'Test client is closed' })
    await expect(run('after')).rejects.toMatchObject({ name: 'UpstreamUnavailableError', sent: false })
    expect(started.map((task) => task.name)).toEqual(['running'])
  })
})
