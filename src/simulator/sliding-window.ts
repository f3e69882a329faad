/**
 * At most `limit` events in any window of `windowMs` — every window, not only aligned ones, which
 * a fixed-window counter does not give: it allows twice the limit across a window edge. The
 * simulated upstreams' hard rate limit, counting requests on arrival as an upstream's edge
 * would. A ring of the last `limit` event times, so each check is O(1).
 */
export class SlidingWindow {
  private readonly stamps: Float64Array
  private next = 0
  private filled = 0

  constructor (readonly limit: number, readonly windowMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`window limit must be a whole number ≥ 1, got ${limit}`)
    this.stamps = new Float64Array(limit)
  }

  /** True (and recorded) when an event may happen at `now`. */
  tryAcquire (now: number): boolean {
    if (this.filled < this.limit) {
      this.filled++
    } else {
      // Full: `next` points at the oldest event.
      if ((this.stamps[this.next] as number) + this.windowMs > now) return false
    }
    this.stamps[this.next] = now
    this.next = (this.next + 1) % this.limit
    return true
  }
}
