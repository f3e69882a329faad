/**
 * Headroom kept below the configured rate. An upstream stamps arrivals after its own event-loop
 * and network delays, which vary by tens of milliseconds on a busy host, and a 429 costs a whole
 * Retry-After. 3 % kept the simulator's same-rate hard limit from answering 429 in the reconcile
 * bench on a quiet machine, where 2 % did not. Each 429 that gets through anyway doubles the
 * headroom (up to 25 %), and every answered request takes back 1/2000 of the excess, so a host
 * where arrivals jitter more — or an upstream whose real limit is below the configured rate,
 * which the upstreams' docs do not state — settles at a pace that stops costing pauses.
 */
const BASE_HEADROOM = 0.03
const MAX_HEADROOM = 0.25
const HEADROOM_DECAY = 1 / 2000

export class RateHeadroom {
  private headroom = BASE_HEADROOM

  /** The current headroom as a share of the rate (0.03 = 3 %). */
  get share (): number {
    return this.headroom
  }

  /** How much longer than the rate's own window the send window is kept. */
  get windowStretch (): number {
    return 1 + this.headroom
  }

  /** The upstream answered 429 although the window held. */
  rateLimited (): void {
    this.headroom = Math.min(MAX_HEADROOM, this.headroom * 2)
  }

  /** The upstream answered without a 429. */
  answered (): void {
    this.headroom -= (this.headroom - BASE_HEADROOM) * HEADROOM_DECAY
  }
}
