import type { FaultState } from './faults.js'
import type { Random } from './random.js'
import type { Sleeper } from './sleeper.js'

/** Why the gate answered instead of the API; each upstream renders it in its own error shape. */
export type GateRefusal =
  | { readonly kind: 'down', readonly status: 503, readonly retryAfterSeconds: number }
  | { readonly kind: 'over_limit', readonly status: 429, readonly retryAfterSeconds: number }
  | { readonly kind: 'server_error', readonly status: number }
  | { readonly kind: 'rate_limited', readonly status: 429, readonly retryAfterSeconds: number }

export interface ApiGateOptions {
  faults: FaultState
  random: Random
  sleeper: Sleeper
  /** The 5xx statuses a random server error is drawn from. */
  serverErrorStatuses: readonly number[]
}

/**
 * The API faults, in the order a real edge would apply them: slowness, an outage and the hard
 * rate limit before the request is read (`arrive`); after authentication, a random 5xx and then a
 * random 429 (`draw`). A refused request did nothing upstream.
 */
export class ApiGate {
  constructor (private readonly options: ApiGateOptions) {}

  async arrive (): Promise<GateRefusal | undefined> {
    const { faults, random, sleeper } = this.options
    const current = faults.faults
    if (current.slowMs > 0 && random.chance(current.slowRate)) await sleeper.sleep(current.slowMs)
    const downForMs = faults.downForMs()
    if (downForMs > 0) return { kind: 'down', status: 503, retryAfterSeconds: Math.ceil(downForMs / 1000) }
    if (!faults.admit(performance.now())) return { kind: 'over_limit', status: 429, retryAfterSeconds: 1 }
    return undefined
  }

  draw (): GateRefusal | undefined {
    const { faults, random, serverErrorStatuses } = this.options
    const current = faults.faults
    if (random.chance(current.errorRate)) return { kind: 'server_error', status: random.pick(serverErrorStatuses) }
    if (random.chance(current.rateLimitedRate)) return { kind: 'rate_limited', status: 429, retryAfterSeconds: current.retryAfterSeconds }
    return undefined
  }
}
