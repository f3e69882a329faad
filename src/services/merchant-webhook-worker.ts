import type { FastifyBaseLogger } from 'fastify'
import { request } from 'undici'
import type { Database } from '../db/database.js'
import { retryDelayMs } from '../domain/delivery-retry.js'
import { orderAtChange } from '../domain/order-change.js'
import type { TargetPolicy } from '../domain/outbound-target.js'
import type { Metrics } from '../metrics/metrics.js'
import type { ProviderModule } from '../providers/provider-module.js'
import {
  claimDueDeliveries, deactivateEndpoint, recordAttempt, releaseDelivery, type AttemptResult, type ClaimedDelivery
} from '../repositories/merchant-webhooks-repository.js'
import type { Clock } from '../upstream/clock.js'
import { parseRetryAfterMs } from '../upstream/retry-after.js'

/** The MERCHANT_WEBHOOK_* settings the worker runs with. */
export interface MerchantWebhookWorkerOptions {
  concurrency: number
  timeoutMs: number
  pollIntervalMs: number
  maxBackoffSeconds: number
}

export interface MerchantWebhookWorkerDependencies {
  db: Database
  providers: readonly ProviderModule[]
  policy: TargetPolicy
  sign: (input: { secret: string, webhookId: string, at: Date, body: string }) => Record<string, string>
  metrics: Pick<Metrics, 'merchantWebhookDeliveriesTotal' | 'merchantWebhookAttemptSeconds'>
  log: FastifyBaseLogger
  clock: Clock
}

/** How an attempt ended, as counted in order_mirror_merchant_webhook_deliveries_total. */
export type DeliveryResult = 'delivered' | 'failed' | 'exhausted' | 'gone'

/** A receiver's answer is never needed beyond its status: read at most this much of it, then drop it. */
const RESPONSE_BODY_LIMIT_BYTES = 16 * 1024
/**
 * A lease covers twice the longest attempt and then some, so only a crashed (or long-stalled)
 * instance's lease runs out; its deliveries then go again, with the same webhook-id.
 */
function leaseMs (timeoutMs: number): number {
  return 2 * timeoutMs + 5000
}

/**
 * Sends the outbox (merchant_webhook_deliveries) to merchants' receivers, in every instance: due
 * deliveries are leased with SKIP LOCKED (repository), so several instances share the work
 * without sending one attempt twice, and an instance that dies mid-attempt only delays its
 * deliveries until their lease runs out (then they go again, with the same webhook-id).
 *
 * What it holds is bounded: at most `concurrency` attempts in flight, each reading at most
 * RESPONSE_BODY_LIMIT_BYTES of its answer, and at most one pooled connection at a time (its
 * statements take turns), so a slow or dead receiver costs the rest of the service neither
 * memory nor database connections; ingest, reads and the reconciler never wait for it.
 */
export class MerchantWebhookWorker {
  private readonly inFlight = new Set<Promise<void>>()
  private databaseTurn: Promise<unknown> = Promise.resolve()
  private running: Promise<void> | null = null
  private stopping = new AbortController()
  private wakeUp: (() => void) | null = null

  constructor (private readonly options: MerchantWebhookWorkerOptions, private readonly deps: MerchantWebhookWorkerDependencies) {}

  start (): void {
    if (this.running) return
    this.stopping = new AbortController()
    this.running = this.loop()
  }

  /** Stops claiming, cuts the attempts in flight short (handing their deliveries back) and returns once they are. */
  async stop (): Promise<void> {
    this.stopping.abort()
    this.wakeUp?.()
    await this.running
    this.running = null
    await Promise.allSettled([...this.inFlight])
  }

  /** Something became due now (a retry, an endpoint set active): look without waiting for the interval. */
  wake (): void {
    this.wakeUp?.()
  }

  /** One round, for tests and the loop alike: claims what fits in the free slots and waits for those attempts. */
  async tick (): Promise<number> {
    const started = await this.claimAndStart()
    await Promise.allSettled(started)
    return started.length
  }

  private async loop (): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let started = 0
      try {
        started = (await this.claimAndStart()).length
      } catch (error) {
        this.deps.log.warn({ err: error }, 'merchant webhook deliveries not claimed')
      }
      // Idle, or every slot busy: wait for a slot, a wake-up or the interval. Otherwise claim again
      // at once: more may be due than one claim took.
      if (started === 0 || this.inFlight.size >= this.options.concurrency) await this.pause()
    }
  }

  private async pause (): Promise<void> {
    const wait = new AbortController()
    const woken = new Promise<void>((resolve) => { this.wakeUp = resolve })
    const slotFreed = this.inFlight.size >= this.options.concurrency ? Promise.race([...this.inFlight]) : new Promise<void>(() => {})
    await Promise.race([
      woken, slotFreed,
      this.deps.clock.sleep(this.options.pollIntervalMs, AbortSignal.any([wait.signal, this.stopping.signal])).catch(() => {})
    ])
    wait.abort()
    this.wakeUp = null
  }

  /** The worker's statements take turns on one pooled connection at a time. */
  private inTurn<T> (work: () => Promise<T>): Promise<T> {
    const turn = this.databaseTurn.then(work, work)
    this.databaseTurn = turn.catch(() => {})
    return turn
  }

  private async claimAndStart (): Promise<Array<Promise<void>>> {
    const free = this.options.concurrency - this.inFlight.size
    if (free <= 0 || this.stopping.signal.aborted) return []
    const now = this.deps.clock.now()
    const claimed = await this.inTurn(() => claimDueDeliveries(this.deps.db.pool, new Date(now),
      new Date(now + leaseMs(this.options.timeoutMs)), free))
    return claimed.map((delivery) => {
      const attempt = this.attempt(delivery).finally(() => { this.inFlight.delete(attempt) })
      this.inFlight.add(attempt)
      return attempt
    })
  }

  private async attempt (delivery: ClaimedDelivery): Promise<void> {
    const log = this.deps.log.child({ deliveryId: delivery.id, webhookId: delivery.webhookId, endpointId: delivery.endpointId })
    const startedAt = this.deps.clock.now()
    let result: AttemptResult
    let counted: DeliveryResult
    try {
      const outcome = await this.send(delivery)
      const at = this.deps.clock.now()
      if (outcome.statusCode >= 200 && outcome.statusCode < 300) {
        result = { kind: 'delivered', statusCode: outcome.statusCode, at: new Date(at) }
        counted = 'delivered'
      } else if (outcome.statusCode === 410) {
        await this.inTurn(() => deactivateEndpoint(this.deps.db.pool, delivery.endpointId))
        log.warn('merchant webhook endpoint answered 410 Gone: set inactive')
        // Due again at once, but only claimed once the merchant sets the endpoint active again.
        result = { kind: 'failed', statusCode: 410, error: 'HTTP 410: endpoint set inactive', nextAttemptAt: new Date(at) }
        counted = 'gone'
      } else {
        ({ result, counted } = this.failure(delivery, outcome.statusCode, `HTTP ${outcome.statusCode}`, outcome.retryAfterMs, at))
      }
    } catch (error) {
      if (this.stopping.signal.aborted) {
        // Cut short by shutdown: handed back as it was, due again at once for any instance. The
        // receiver may have had it, so it may arrive twice, with the same webhook-id.
        await this.inTurn(() => releaseDelivery(this.deps.db.pool, delivery)).catch((failure: unknown) => log.warn({ err: failure }, 'merchant webhook lease not released'))
        return
      }
      ({ result, counted } = this.failure(delivery, null, describeFailure(error), null, this.deps.clock.now()))
    }
    this.deps.metrics.merchantWebhookAttemptSeconds.observe((this.deps.clock.now() - startedAt) / 1000)
    this.deps.metrics.merchantWebhookDeliveriesTotal.inc({ endpoint: delivery.endpointId, result: counted })
    if (counted !== 'delivered') log.info({ result: counted, error: 'error' in result ? result.error : undefined, attempt: delivery.attempt }, 'merchant webhook not delivered')
    try {
      await this.inTurn(() => recordAttempt(this.deps.db.pool, delivery, result))
    } catch (error) {
      // The lease runs out and the delivery goes again: at least once, never lost.
      log.warn({ err: error }, 'merchant webhook attempt not recorded')
    }
  }

  private failure (delivery: ClaimedDelivery, statusCode: number | null, error: string, retryAfterMs: number | null, at: number): { result: AttemptResult, counted: DeliveryResult } {
    const delay = retryDelayMs({
      retryDelaySeconds: delivery.retryDelay, maxRetries: delivery.maxRetries, maxBackoffSeconds: this.options.maxBackoffSeconds
    }, delivery.attempt - delivery.retryBase, retryAfterMs)
    if (delay === null) return { result: { kind: 'exhausted', statusCode, error }, counted: 'exhausted' }
    return { result: { kind: 'failed', statusCode, error, nextAttemptAt: new Date(at + delay) }, counted: 'failed' }
  }

  private async send (delivery: ClaimedDelivery): Promise<{ statusCode: number, retryAfterMs: number | null }> {
    // The allow-list may have changed since the endpoint was registered: it holds at every attempt.
    const refused = this.deps.policy.refuse(delivery.url)
    if (refused !== null) throw new TargetRefusedError(refused)
    const provider = this.deps.providers.find((candidate) => candidate.name === delivery.provider)
    if (!provider) throw new Error(`no provider module named ${delivery.provider}`)
    const at = new Date(this.deps.clock.now())
    const body = JSON.stringify({
      event: delivery.event,
      // The attempt's time, as GameSO sends when the change happens: a receiver that refuses old
      // timestamps (replay protection) still takes a retry. The change's own time is in data.
      timestamp: Math.floor(at.getTime() / 1000),
      data: provider.presentChange(orderAtChange(delivery.order))
    })
    const headers = this.deps.sign({ secret: delivery.secret, webhookId: delivery.webhookId, at, body })
    const response = await request(delivery.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopping.signal]),
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs
    })
    await response.body.dump({ limit: RESPONSE_BODY_LIMIT_BYTES })
    const retryAfter = response.headers['retry-after']
    return {
      statusCode: response.statusCode,
      retryAfterMs: parseRetryAfterMs(typeof retryAfter === 'string' ? retryAfter : null, at.getTime())
    }
  }
}

class TargetRefusedError extends Error {}

/** What last_error says about an attempt that got no answer: never a header, a body or the secret. */
function describeFailure (error: unknown): string {
  if (error instanceof TargetRefusedError) return `not sent: the URL ${error.message}`
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || /Timeout/.test(error.name))) return 'timeout'
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? `network error ${code}` : 'network error'
}
