import type { Clock } from '../../src/upstream/clock.js'

interface Sleeper {
  at: number
  resolve: () => void
}

/** Lets pending callbacks, microtasks and I/O that is already in run before the clock moves on. */
async function settle (): Promise<void> {
  for (let round = 0; round < 3; round++) await new Promise((resolve) => setImmediate(resolve))
}

/**
 * A clock that stands still until the test moves it. Sleepers wake in time order, each with the
 * clock at its own moment, so what a wake-up schedules within the advanced span runs too.
 */
export class ManualClock implements Clock {
  private current: number
  private readonly sleepers = new Set<Sleeper>()

  constructor (start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.current = start
  }

  now (): number {
    return this.current
  }

  async sleep (ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), resolve }
      this.sleepers.add(sleeper)
      signal?.addEventListener('abort', () => {
        this.sleepers.delete(sleeper)
        reject(signal.reason)
      }, { once: true })
    })
  }

  /** Sleepers not yet woken. */
  get pending (): number {
    return this.sleepers.size
  }

  /** Moves time on without waking anyone on the way, as an event-loop stall does; they wake late, together. */
  async stall (ms: number): Promise<void> {
    this.current += ms
    await this.advance(0)
  }

  async advance (ms: number): Promise<void> {
    const target = this.current + ms
    await settle()
    for (;;) {
      let next: Sleeper | undefined
      for (const sleeper of this.sleepers) {
        if (sleeper.at <= target && (next === undefined || sleeper.at < next.at)) next = sleeper
      }
      if (next === undefined) break
      this.sleepers.delete(next)
      this.current = Math.max(this.current, next.at)
      next.resolve()
      await settle()
    }
    this.current = target
    await settle()
  }
}
