import { setMaxListeners } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { Database } from '../db/database.js'
import type { Provider } from '../domain/order.js'
import type { Metrics } from '../metrics/metrics.js'
import type { UpstreamConnection } from '../providers/provider-module.js'
import {
  claimDueOrders,
  finishPoll,
  releaseClaim,
  type ClaimedOrder,
  type PollOutcome,
  type ReconcileState
} from '../repositories/reconcile-repository.js'
import type { OrderSync } from '../services/order-sync.js'
import { inSpan, startSpan, withSpan } from '../tracing/spans.js'
import { UpstreamError, UpstreamRateLimitedError, UpstreamUnauthorizedError } from '../upstream/upstream-errors.js'
import { pollBackoffMs } from './backoff.js'

/**
 * How a poll ended, as counted in order_mirror_reconcile_polls_total. `released` is a poll that
 * was never sent (shutdown, or the upstream paused past the lease) and is not counted.
 */
export type PollResult = 'applied' | 'unchanged' | 'stale' | 'not_found' | 'error' | 'rate_limited' | 'abandoned' | 'released'

export interface TickResult {
  claimed: number
  results: Partial<Record<PollResult, number>>
}

/** The RECONCILE_* settings, plus the instance's id. */
export interface ReconcilerOptions extends Omit<Config['reconcile'], 'enabled'> {
  instanceId: string
}

/** One upstream the reconciler polls. Its request timeout bounds when a poll may still be sent. */
export interface PolledUpstream {
  connection: UpstreamConnection
  /** How long a claim keeps other instances off an order of this provider; see leaseDurationMs. */
  leaseMs: number
}

export interface ReconcilerDependencies {
  db: Database
  /** Every provider this instance polls, each with its own loop, claims and pace. */
  upstreams: readonly PolledUpstream[]
  sync: OrderSync
  metrics: Pick<Metrics, 'pollsTotal'>
  log: FastifyBaseLogger
  random?: () => number
}

/** Room between the last moment a poll may end and the end of its lease (timer lateness, clock rate). */
const LEASE_SAFETY_MS = 2000
/** A claim the database refused is retried after this, doubling up to the poll interval's 10×. */
const CLAIM_RETRY_BASE_MS = 500

/**
 * A lease long enough for a whole batch to get through the rate limit (twice over, as the next
 * batch is claimed before the current one has drained) and for its last call to time out.
 */
export function leaseDurationMs (options: { batchSize: number, maxRequestsPerSecond: number, upstreamTimeoutMs: number }): number {
  const drainMs = Math.ceil(options.batchSize / options.maxRequestsPerSecond * 1000)
  return 2 * drainMs + 2 * options.upstreamTimeoutMs + 2 * LEASE_SAFETY_MS
}

function describe (error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500)
}

/**
 * The polling fallback (SPEC §4), for every provider with an order API: claims due orders under
 * a lease, asks the upstream for each, applies the answer through the same merge as webhooks
 * (source `poll`), and schedules the next poll with exponential backoff — or stops following the
 * order once it is final, not found upstream, or followed for too long. Each provider runs its
 * own loop, so one upstream's pauses or slowness never hold back another's polls. Runs beside the
 * request path: its calls go through the shared clients as background work, and every failure is
 * caught, logged and backed off.
 */
export class Reconciler {
  private readonly lanes: ProviderLane[]

  constructor (options: ReconcilerOptions, deps: ReconcilerDependencies) {
    const random = deps.random ?? Math.random
    // One batch sequence for the instance, so every batch's lease owner (and request id) is its own.
    let batchSeq = 0
    const nextOwner = () => `${options.instanceId}#${++batchSeq}`
    this.lanes = deps.upstreams.map((upstream) => new ProviderLane(options, upstream, deps, random, nextOwner))
  }

  /** The providers this reconciler polls. */
  get providers (): Provider[] {
    return this.lanes.map((lane) => lane.provider)
  }

  get running (): boolean {
    return this.lanes.some((lane) => lane.running)
  }

  /** When this instance last claimed due orders of any provider (null before the first claim). */
  get lastClaim (): Date | null {
    return this.lanes.reduce<Date | null>((latest, lane) => {
      const at = lane.lastClaim
      return at !== null && (latest === null || at > latest) ? at : latest
    }, null)
  }

  /** When a poll of this instance last got its answer stored, per provider (absent before the first). */
  get lastSuccessfulPoll (): ReadonlyMap<Provider, Date> {
    const answered = new Map<Provider, Date>()
    for (const lane of this.lanes) if (lane.lastAnswered !== null) answered.set(lane.provider, lane.lastAnswered)
    return answered
  }

  /** When this instance last claimed due orders of one provider (null before its first claim or when not polled). */
  lastClaimOf (provider: Provider): Date | null {
    return this.lanes.find((lane) => lane.provider === provider)?.lastClaim ?? null
  }

  start (): void {
    for (const lane of this.lanes) lane.start()
  }

  /**
   * Stops claiming, drops polls not sent yet (their orders are released, due again at once),
   * cancels the ones in flight and waits until every answer already received is stored.
   */
  async stop (): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.stop()))
  }

  /** One batch per provider: claim the due orders, poll them all, store the answers. Tests drive this directly. */
  async tick (): Promise<TickResult> {
    const ticks = await Promise.all(this.lanes.map((lane) => lane.tick()))
    const total: TickResult = { claimed: 0, results: {} }
    for (const tick of ticks) {
      total.claimed += tick.claimed
      for (const [result, count] of Object.entries(tick.results) as Array<[PollResult, number]>) {
        total.results[result] = (total.results[result] ?? 0) + count
      }
    }
    return total
  }
}

/** The reconciler of one provider: its claim loop, leases and backoff, over its one client. */
class ProviderLane {
  readonly provider: Provider
  private readonly connection: UpstreamConnection
  private readonly leaseMs: number
  private loop: Promise<void> | undefined
  private stopping = false
  private abort = ProviderLane.stopController()
  private wakeUp: (() => void) | undefined
  private readonly batches = new Set<Promise<TickResult>>()
  private claimFailures = 0
  private lastClaimAt: Date | null = null
  private lastAnsweredAt: Date | null = null

  constructor (
    private readonly options: ReconcilerOptions,
    upstream: PolledUpstream,
    private readonly deps: ReconcilerDependencies,
    private readonly random: () => number,
    private readonly nextOwner: () => string
  ) {
    this.connection = upstream.connection
    this.provider = upstream.connection.provider
    this.leaseMs = upstream.leaseMs
  }

  get running (): boolean {
    return this.loop !== undefined && !this.stopping
  }

  get lastClaim (): Date | null {
    return this.lastClaimAt
  }

  /** When a poll of this lane last got its answer stored (null before the first). */
  get lastAnswered (): Date | null {
    return this.lastAnsweredAt
  }

  start (): void {
    if (this.loop) return
    this.stopping = false
    this.abort = ProviderLane.stopController()
    this.loop = this.run().catch((error: unknown) => {
      this.deps.log.error({ err: error, provider: this.provider }, 'reconciler loop ended unexpectedly')
    })
  }

  async stop (): Promise<void> {
    if (!this.loop) return
    this.stopping = true
    this.abort.abort(new Error('reconciler stopping'))
    this.wakeUp?.()
    await this.loop
    await Promise.allSettled([...this.batches])
    this.loop = undefined
  }

  /** Every poll in flight listens to this one signal: far more than the default 10 listeners. */
  private static stopController (): AbortController {
    const controller = new AbortController()
    setMaxListeners(0, controller.signal)
    return controller
  }

  async tick (): Promise<TickResult> {
    const batch = await this.startBatch()
    return batch.done
  }

  private async run (): Promise<void> {
    while (!this.stopping) {
      const pausedForMs = this.connection.client.pausedForMs()
      if (pausedForMs > 0) {
        // Claiming now would only run leases down while the upstream is not to be called.
        await this.sleep(Math.min(pausedForMs, this.options.intervalMs))
        continue
      }
      let batch: Awaited<ReturnType<ProviderLane['startBatch']>>
      try {
        batch = await this.startBatch()
        this.claimFailures = 0
      } catch (error) {
        this.claimFailures++
        const retryMs = Math.min(this.options.intervalMs * 10, CLAIM_RETRY_BASE_MS * 2 ** Math.min(this.claimFailures - 1, 20))
        this.deps.log.warn({ err: error, retryMs, provider: this.provider }, 'reconciler could not claim due orders')
        await this.sleep(retryMs)
        continue
      }
      if (batch.claimed < this.options.batchSize) {
        await this.sleep(this.options.intervalMs)
      } else {
        // A full batch means more are due: claim the next one while this one's last calls are
        // still queued, so the rate limit, not the claim round trip, sets the pace.
        await batch.mostlySettled
      }
    }
  }

  private async startBatch (): Promise<{ claimed: number, mostlySettled: Promise<void>, done: Promise<TickResult> }> {
    const owner = this.nextOwner()
    // Taken before the claim, so it is no later than the database's lease start.
    const claimStartedAt = Date.now()
    const claimed = await claimDueOrders(this.deps.db.pool, {
      provider: this.provider,
      limit: this.options.batchSize,
      leaseMs: this.leaseMs,
      owner
    })
    this.lastClaimAt = new Date()
    const sendBy = claimStartedAt + this.leaseMs - this.connection.timeoutMs - LEASE_SAFETY_MS
    const result: TickResult = { claimed: claimed.length, results: {} }
    const refillAt = Math.max(1, Math.ceil(claimed.length / 4))
    let unsettled = claimed.length
    let signalMostlySettled: () => void = () => {}
    const mostlySettled = new Promise<void>((resolve) => { signalMostlySettled = resolve })
    if (unsettled <= refillAt) signalMostlySettled()

    // A batch that claimed nothing did no work worth a trace. Its polls' upstream calls carry its id.
    const batchSpan = claimed.length > 0 ? startSpan('reconcile.batch', { 'order_mirror.provider': this.provider, 'order_mirror.claimed': claimed.length }) : undefined
    const done = withSpan(batchSpan, () => Promise.all(claimed.map(async (order) => {
      const outcome = await inSpan('reconcile.poll', { 'order_mirror.provider': order.provider, 'order_mirror.reference': order.reference }, async (span) => {
        const polled = await this.pollOne(order, owner, sendBy)
        span.setAttribute('order_mirror.result', polled)
        return polled
      })
      result.results[outcome] = (result.results[outcome] ?? 0) + 1
      if (outcome !== 'released') this.deps.metrics.pollsTotal.inc({ provider: order.provider, result: outcome })
      if (--unsettled <= refillAt) signalMostlySettled()
    }))).then(() => {
      if (claimed.length > 0) this.deps.log.debug({ owner, ...result }, 'reconcile batch done')
      return result
    })
    this.batches.add(done)
    done.finally(() => {
      this.batches.delete(done)
      batchSpan?.end()
    }).catch(() => {})
    return { claimed: claimed.length, mostlySettled, done }
  }

  /** Never throws: every failure ends as a result, and the order is rescheduled or released. */
  private async pollOne (order: ClaimedOrder, owner: string, sendBy: number): Promise<PollResult> {
    let answer: Awaited<ReturnType<UpstreamConnection['fetchSnapshot']>>
    try {
      answer = await this.connection.fetchSnapshot(order.reference, { priority: 'background', sendBy, signal: this.abort.signal, requestId: owner })
    } catch (error) {
      return this.afterFailedCall(order, owner, error)
    }

    if (!answer.found) {
      this.answered()
      return this.finish(order, owner, 'not_found', this.backoff(order, {
        found: false, notFound: true, attemptIncrement: 1, error: `${this.connection.displayName} has no such order`, refetchStillNeeded: order.refetchRequested
      }))
    }

    try {
      // The upstream's own answer settles a tie with what is stored, whichever source stored it,
      // so every poll is authoritative: a tie never costs a second call.
      const applied = await this.deps.sync.applySnapshot(answer.order, { source: 'poll', authoritative: true })
      this.answered()
      const result: PollResult = applied.decision === 'insert' || applied.decision === 'apply'
        ? 'applied'
        : applied.decision === 'stale' ? 'stale' : 'unchanged'
      const outcome: PollOutcome = result === 'applied'
        // The merge has just scheduled the next poll a full stale period ahead and reset the count.
        ? { found: true, notFound: false, attemptIncrement: 0, delayMs: null, error: null, refetchStillNeeded: false }
        : this.backoff(order, { found: true, notFound: false, attemptIncrement: 1, error: null, refetchStillNeeded: false })
      return await this.finish(order, owner, result, outcome)
    } catch (error) {
      this.deps.log.warn({ err: error, reference: order.reference, provider: order.provider }, 'poll answer could not be stored')
      return this.finish(order, owner, 'error', this.backoff(order, {
        found: false, notFound: false, attemptIncrement: 1, error: `storing the answer failed: ${describe(error)}`, refetchStillNeeded: order.refetchRequested
      }))
    }
  }

  private async afterFailedCall (order: ClaimedOrder, owner: string, error: unknown): Promise<PollResult> {
    const unsent = this.abort.signal.aborted || (error instanceof UpstreamError && !error.sent)
    if (error instanceof UpstreamRateLimitedError) {
      // Not the order's fault: no attempt counted, next try when the upstream allows it.
      if (!error.sent) return this.release(order, owner, error.retryAfterMs)
      return this.finish(order, owner, 'rate_limited', {
        found: false, notFound: false, attemptIncrement: 0, delayMs: error.retryAfterMs, error: describe(error), refetchStillNeeded: order.refetchRequested
      })
    }
    if (unsent) return this.release(order, owner, this.stopping ? 0 : this.connection.client.pausedForMs())
    // A refused signature or key will not cure itself: said loudly, once per poll, with the fix in the message.
    if (error instanceof UpstreamUnauthorizedError) {
      this.deps.log.error({ err: error, reference: order.reference, provider: order.provider }, 'upstream refused the mirror\'s credentials')
    } else {
      this.deps.log.debug({ err: error, reference: order.reference, provider: order.provider }, 'poll failed')
    }
    return this.finish(order, owner, 'error', this.backoff(order, {
      found: false, notFound: false, attemptIncrement: 1, error: describe(error), refetchStillNeeded: order.refetchRequested
    }))
  }

  /**
   * The upstream answered and the answer is stored: what "last successful poll" means in
   * readiness. Noted before the poll's bookkeeping, so whoever sees that written sees this too.
   */
  private answered (): void {
    this.lastAnsweredAt = new Date()
  }

  private backoff (order: ClaimedOrder, outcome: Omit<PollOutcome, 'delayMs'>): PollOutcome {
    const baseMs = Math.max(this.options.staleAfterMs, this.options.intervalMs)
    const delayMs = pollBackoffMs(order.pollAttempts + outcome.attemptIncrement, { baseMs, maxMs: this.options.maxBackoffMs }, this.random)
    return { ...outcome, delayMs }
  }

  private async finish (order: ClaimedOrder, owner: string, result: PollResult, outcome: PollOutcome): Promise<PollResult> {
    let state: ReconcileState | null
    try {
      state = await finishPoll(this.deps.db.pool, order.id, owner, outcome, {
        notFoundLimit: this.options.notFoundLimit,
        giveUpAfterMs: this.options.giveUpAfterMs
      })
    } catch (error) {
      // The lease runs out and the order comes due again: nothing is lost by giving up here.
      this.deps.log.warn({ err: error, reference: order.reference, provider: order.provider }, 'poll result could not be recorded')
      return result
    }
    if (state === 'abandoned') {
      this.deps.log.warn({ reference: order.reference, provider: order.provider }, 'order abandoned: not final within RECONCILE_GIVE_UP_AFTER_MS')
      return 'abandoned'
    }
    if (state === 'not_found_upstream') {
      this.deps.log.warn({ reference: order.reference, provider: order.provider, notFoundLimit: this.options.notFoundLimit }, 'order marked not_found_upstream')
    }
    return result
  }

  private async release (order: ClaimedOrder, owner: string, delayMs: number): Promise<PollResult> {
    try {
      await releaseClaim(this.deps.db.pool, order.id, owner, delayMs)
    } catch (error) {
      this.deps.log.warn({ err: error, reference: order.reference, provider: order.provider }, 'poll lease could not be released; it will expire')
    }
    return 'released'
  }

  private async sleep (ms: number): Promise<void> {
    if (this.stopping) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wakeUp = undefined
  }
}
