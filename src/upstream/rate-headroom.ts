/**
 * Headroom kept below the configured rate. The answer-bound window already covers every delay
 * between the client and the upstream's clock; 1 % is for what it cannot see: whole-millisecond
 * clock readings and two processes' clocks running at slightly different speeds. Each 429 that
 * gets through anyway doubles the headroom (up to 25 %), and every answered request takes back
 * 1/2000 of the excess, so an upstream whose real limit is below the configured rate — which the
 * upstreams' docs do not state — or that shares its limit with other clients of the same
 * account settles at a pace that stops costing pauses.
 */
const BASE_HEADROOM = 0.01
const MAX_HEADROOM = 0.25
const HEADROOM_DECAY = 1 / 2000

export class RateHeadroom {
  private headroom = BASE_HEADROOM

  /** The current headroom as a share of the rate (0.01 = 1 %). */
  get share (): number {
    return this.headroom
  }

  /** How much longer than the rate's own window a place in it is held. */
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
