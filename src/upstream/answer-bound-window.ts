/**
 * At most `limit` requests in any window of `windowMs` as the upstream counts them: by arrival,
 * in any window (not only aligned ones). The client never sees an arrival, but it sees two
 * moments that bracket it — the send before, the answer after. So a request holds a place from
 * its send until `windowMs` after its answer (or its failure). However late it arrived — a stall
 * of either process between the send and the upstream's clock, a queue on the way — it arrived
 * before it was answered, so by the time its place frees it has left every window the upstream
 * can count a later request in. Counting from the send instead, as a plain sliding window does,
 * needs headroom above the worst difference in delay between two requests a window apart, and a
 * stall longer than that headroom costs a 429 and its whole Retry-After.
 *
 * The price is the round trip: each place is held for the window plus it, so the rate reached is
 * limit ÷ (window + round trip) — 0.5 % below the limit at 5 ms, 9 % at 100 ms.
 *
 * The answers come in time order, so the freed places are a ring of answer times, oldest first;
 * each check is O(1) apart from dropping the places that have freed.
 */
export class AnswerBoundWindow {
  private readonly answeredAt: Float64Array
  /** Ring index of the oldest answer still holding a place. */
  private oldest = 0
  private answered = 0
  private inFlight = 0

  constructor (readonly limit: number, readonly windowMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`window limit must be a whole number ≥ 1, got ${limit}`)
    this.answeredAt = new Float64Array(limit)
  }

  /**
   * A window for a rate that may be fractional or below 1 per second: the limit is the rate
   * rounded (at least 1) and the window stretched to match, so 0.5/s is 1 per 2 s.
   */
  static perSecond (rate: number): AnswerBoundWindow {
    const limit = Math.max(1, Math.round(rate))
    return new AnswerBoundWindow(limit, limit / rate * 1000)
  }

  /** Places held now: requests in flight and answers less than a window old. */
  held (now: number, stretch = 1): number {
    this.freeUpTo(now, stretch)
    return this.inFlight + this.answered
  }

  /**
   * 0 when a request may go at `now` (it then holds a place until `settle`); otherwise the whole
   * milliseconds until the oldest answer frees its place, or `undefined` when every place waits on
   * a request still in flight (ask again once one settles). `stretch` lengthens the window
   * (1.01 = 1 % longer) for callers that keep headroom below the limit.
   */
  reserve (now: number, stretch = 1): number | undefined {
    if (this.held(now, stretch) < this.limit) {
      this.inFlight++
      return 0
    }
    if (this.answered === 0) return undefined
    return Math.max(1, Math.ceil((this.answeredAt[this.oldest] as number) + this.windowMs * stretch - now))
  }

  /** A request that holds a place was answered (or failed) at `now`: its place frees a window later. */
  settle (now: number): void {
    if (this.inFlight === 0) throw new Error('settle without a request in flight')
    this.inFlight--
    const newest = this.answered === 0 ? undefined : this.answeredAt[(this.oldest + this.answered - 1) % this.limit] as number
    // A clock stepped back would otherwise hold places for as long as it stepped, and break the time order.
    if (newest !== undefined && newest > now) this.clampTo(now)
    this.answeredAt[(this.oldest + this.answered) % this.limit] = now
    this.answered++
  }

  private freeUpTo (now: number, stretch: number): void {
    if (this.answered > 0 && (this.answeredAt[this.oldest] as number) > now) this.clampTo(now)
    const spanMs = this.windowMs * stretch
    while (this.answered > 0 && (this.answeredAt[this.oldest] as number) + spanMs <= now) {
      this.oldest = (this.oldest + 1) % this.limit
      this.answered--
    }
  }

  private clampTo (now: number): void {
    for (let index = 0; index < this.answered; index++) {
      const slot = (this.oldest + index) % this.limit
      if ((this.answeredAt[slot] as number) > now) this.answeredAt[slot] = now
    }
  }
}
