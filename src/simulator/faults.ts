import { z } from 'zod'
import { SlidingWindow } from './sliding-window.js'
import { patchSchemaOf } from './patch-schema.js'

const rate = z.number().min(0).max(1)
const millis = z.number().int().min(0).max(3_600_000)

/** Every fault switch; all off by default. Settable at start and through POST /_control/faults. */
export const faultsSchema = z.object({
  /** Webhooks never delivered (no retry either), as if the upstream lost them. */
  dropRate: rate.default(0),
  /** Webhooks delivered more than once (each extra copy is drawn again, up to 3 extra). */
  duplicateRate: rate.default(0),
  /** Hold webhooks for reorderWindowMs, then deliver that batch in a shuffled order. */
  reorder: z.boolean().default(false),
  reorderWindowMs: z.number().int().min(1).max(600_000).default(1000),
  /** Extra random delay, 0 … delayMs, before a webhook's first attempt. */
  delayMs: millis.default(0),
  /** API answers a random 5xx in the upstream's error shape. */
  errorRate: rate.default(0),
  /** API answers 429 with Retry-After: retryAfterSeconds. */
  rateLimitedRate: rate.default(0),
  retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
  /** API answers are held back slowMs, for the share slowRate of requests. */
  slowMs: millis.default(0),
  slowRate: rate.default(1),
  /** Hard limit: over this many API requests in any 1-second window answer 429 (0 = none). */
  maxRequestsPerSecond: z.number().int().min(0).max(1_000_000).default(0),
  /** Answer every API request 503 for this long from now (0 ends an outage). */
  downForMs: millis.default(0)
})

export type FaultsInput = z.input<typeof faultsSchema>
export type Faults = Omit<z.output<typeof faultsSchema>, 'downForMs'>
export const faultsPatchSchema = patchSchemaOf(faultsSchema)

/** Fault switches plus the state derived from them (outage end, rate limiter). */
export class FaultState {
  private current: Faults
  private downUntilMs = 0
  private limiter: SlidingWindow | undefined

  constructor (initial: FaultsInput = {}, private readonly now: () => number = Date.now) {
    this.current = this.replace(initial)
  }

  get faults (): Readonly<Faults> {
    return this.current
  }

  /** Merges the given switches into the current ones. */
  update (patch: z.output<typeof faultsPatchSchema>): void {
    const { downForMs, ...faults } = patch
    this.current = { ...this.current, ...faults }
    this.apply(faults, downForMs)
  }

  /** Everything off, outage ended. */
  clear (): void {
    this.current = this.replace({})
  }

  /** Milliseconds of outage left, 0 when up. */
  downForMs (): number {
    return Math.max(0, this.downUntilMs - this.now())
  }

  /** True when the hard per-second limit lets this request through. */
  admit (monotonicNowMs: number): boolean {
    return this.limiter === undefined || this.limiter.tryAcquire(monotonicNowMs)
  }

  toJSON () {
    return { ...this.current, downUntil: this.downForMs() > 0 ? new Date(this.downUntilMs).toISOString() : null }
  }

  private replace (input: FaultsInput): Faults {
    const { downForMs, ...faults } = faultsSchema.parse(input)
    this.apply(faults, downForMs)
    return faults
  }

  private apply (faults: Partial<Faults>, downForMs: number | undefined): void {
    if (downForMs !== undefined) this.downUntilMs = downForMs > 0 ? this.now() + downForMs : 0
    if (faults.maxRequestsPerSecond !== undefined) {
      this.limiter = faults.maxRequestsPerSecond > 0 ? new SlidingWindow(faults.maxRequestsPerSecond, 1000) : undefined
    }
  }
}
