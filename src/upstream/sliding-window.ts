/**
 * At most `limit` events in any window of `windowMs` — every window, not only aligned ones, which
 * a fixed-window counter (bottleneck's reservoir, p-queue's interval) does not give: it allows
 * twice the limit across a window edge. A ring of the last `limit` event times, so each check is
 * O(1). The upstream clients check it at the moment of sending; the simulator's hard limit checks
 * it on arrival.
 */
export class SlidingWindow {
  private readonly stamps: Float64Array
  private next = 0
  private filled = 0

  constructor (readonly limit: number, readonly windowMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`window limit must be a whole number ≥ 1, got ${limit}`)
    this.stamps = new Float64Array(limit)
  }

  /**
   * A window for a rate that may be fractional or below 1 per second: the limit is the rate
   * rounded (at least 1) and the window stretched to match, so 0.5/s is 1 per 2 s.
   */
  static perSecond (rate: number): SlidingWindow {
    const limit = Math.max(1, Math.round(rate))
    return new SlidingWindow(limit, limit / rate * 1000)
  }

  /**
   * 0 when an event may happen at `now` (and records it); otherwise the whole milliseconds to
   * wait before asking again. `stretch` lengthens the window (1.03 = 3 % longer) for callers
   * that keep headroom below the limit.
   */
  reserve (now: number, stretch = 1): number {
    if (this.filled < this.limit) {
      this.filled++
    } else {
      // Full: `next` points at the oldest event.
      const oldest = this.stamps[this.next] as number
      // A clock stepped back would otherwise hold sends for as long as it stepped.
      if (oldest > now) this.clampTo(now)
      const waitMs = (this.stamps[this.next] as number) + this.windowMs * stretch - now
      if (waitMs > 0) return Math.ceil(waitMs)
    }
    this.stamps[this.next] = now
    this.next = (this.next + 1) % this.limit
    return 0
  }

  /** True (and recorded) when an event may happen at `now`. */
  tryAcquire (now: number): boolean {
    return this.reserve(now) === 0
  }

  private clampTo (now: number): void {
    for (let index = 0; index < this.filled; index++) {
      if ((this.stamps[index] as number) > now) this.stamps[index] = now
    }
  }
}
