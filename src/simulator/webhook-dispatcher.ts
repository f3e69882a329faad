import { createHmac } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { Agent, request } from 'undici'
import type { Faults } from './faults.js'
import { toGameSoOrder, type OrderStatus, type SimOrder } from './order.js'
import type { Random } from './random.js'
import type { SimulatorStats } from './stats.js'

/** Sockets kept per receiver: enough for bursts, few enough that 10,000 events queue, not flood. */
const CONNECTIONS_PER_RECEIVER = 64

/** How webhooks go out, read live so the control API can retarget them mid-run. */
export interface WebhookSettings {
  webhookUrls: readonly string[]
  /** Unset: deliveries carry no signature header. */
  webhookSecret: string | null
  signatureHeader: string
  /** Put before the hex digest, e.g. "sha256="; empty by default. */
  signaturePrefix: string
  /** Statuses that send `order.<status>`; GameSO documents only completed and failed. */
  webhookEvents: readonly OrderStatus[]
  maxRetries: number
  retryDelayMs: number
  webhookTimeoutMs: number
}

/** Lower-case hex HMAC-SHA256 of the exact body bytes. */
export function signBody (body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/** GameSO's envelope; `timestamp` is the Unix second of the change, like `updated_at`. */
export function webhookBody (order: SimOrder): Buffer {
  return Buffer.from(JSON.stringify({
    event: `order.${order.status}`,
    timestamp: Math.floor(order.updatedAtMs / 1000),
    data: toGameSoOrder(order)
  }))
}

interface Delivery {
  url: string
  event: string
  referenceId: string
  body: Buffer
  headers: Record<string, string>
  attempts: number
}

export interface WebhookDispatcherOptions {
  settings: WebhookSettings
  faults: () => Readonly<Faults>
  random: Random
  stats: SimulatorStats
  log: FastifyBaseLogger
}

/**
 * Sends GameSO-style webhooks with GameSO's retry policy (max_retries, fixed retry_delay) and the
 * webhook faults: drop, duplicate, delay and reorder. Each event is serialized and signed once,
 * when the order changes, so a retry or a late copy carries the snapshot of that moment.
 */
export class WebhookDispatcher {
  private readonly agent = new Agent({ connections: CONNECTIONS_PER_RECEIVER })
  private readonly shutdown = new AbortController()
  private readonly timers = new Set<NodeJS.Timeout>()
  private held: Delivery[] = []
  private heldTimer: NodeJS.Timeout | undefined
  private pendingDeliveries = 0
  private idleWaiters: Array<() => void> = []
  private closed = false

  constructor (private readonly options: WebhookDispatcherOptions) {}

  /** Deliveries not finished yet: held, delayed, in flight or waiting for a retry. */
  get pending (): number {
    return this.pendingDeliveries
  }

  /** Called on every status change; sends when the status is a configured event. */
  orderChanged (order: SimOrder): void {
    const { settings, stats, random } = this.options
    if (this.closed || !order.sendWebhooks || !settings.webhookEvents.includes(order.status)) return
    const event = `order.${order.status}`
    stats.webhookGenerated(event)
    if (settings.webhookUrls.length === 0) return
    const body = webhookBody(order)
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'GameSO-Simulator/1.0' }
    if (settings.webhookSecret) headers[settings.signatureHeader] = settings.signaturePrefix + signBody(body, settings.webhookSecret)
    const faults = this.options.faults()
    for (const url of settings.webhookUrls) {
      if (random.chance(faults.dropRate)) {
        stats.webhooks.dropped++
        continue
      }
      let copies = 1
      while (copies < 4 && random.chance(faults.duplicateRate)) copies++
      stats.webhooks.duplicated += copies - 1
      for (let copy = 0; copy < copies; copy++) {
        this.enqueue({ url, event, referenceId: order.referenceId, body, headers, attempts: 0 })
      }
    }
  }

  /** Resolves once no delivery is pending (tests use it to wait for the dust to settle). */
  whenIdle (): Promise<void> {
    if (this.pendingDeliveries === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Drops everything not yet sent and aborts what is in flight. */
  async close (): Promise<void> {
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    clearTimeout(this.heldTimer)
    this.held = []
    this.shutdown.abort()
    await this.agent.destroy()
    this.pendingDeliveries = 0
    this.wakeIdleWaiters()
  }

  private enqueue (delivery: Delivery): void {
    this.pendingDeliveries++
    const faults = this.options.faults()
    if (!faults.reorder) {
      this.start(delivery)
      return
    }
    this.held.push(delivery)
    this.heldTimer ??= setTimeout(() => this.background(this.releaseHeld()), faults.reorderWindowMs)
  }

  /**
   * Sends a held window in shuffled order, one first attempt after another, so the receiver sees
   * exactly that order (concurrent sends could arrive in any order and hide the fault).
   */
  private async releaseHeld (): Promise<void> {
    const batch = this.options.random.derange(this.held)
    this.held = []
    this.heldTimer = undefined
    for (const delivery of batch) await this.start(delivery)
  }

  private start (delivery: Delivery): Promise<void> {
    const { delayMs } = this.options.faults()
    const delay = delayMs > 0 ? this.options.random.int(0, delayMs) : 0
    if (delay === 0) return this.attempt(delivery)
    this.later(delay, delivery)
    return Promise.resolve()
  }

  private later (ms: number, delivery: Delivery): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.background(this.attempt(delivery))
    }, ms)
    this.timers.add(timer)
  }

  private async attempt (delivery: Delivery): Promise<void> {
    if (this.closed) return
    const { settings, stats, log } = this.options
    delivery.attempts++
    stats.webhooks.attempted++
    let outcome: { statusCode?: number, err?: unknown }
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        dispatcher: this.agent,
        signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(settings.webhookTimeoutMs)])
      })
      await response.body.dump()
      outcome = { statusCode: response.statusCode }
    } catch (err) {
      outcome = { err }
    }
    if (this.closed) return
    const context = { url: delivery.url, event: delivery.event, referenceId: delivery.referenceId, attempt: delivery.attempts, ...outcome }
    if (outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300) {
      stats.webhooks.delivered++
      this.settle()
    } else if (delivery.attempts <= settings.maxRetries) {
      stats.webhooks.retried++
      log.debug(context, 'webhook delivery failed, retrying')
      this.later(settings.retryDelayMs, delivery)
    } else {
      stats.webhooks.failed++
      log.warn(context, 'webhook delivery failed, giving up')
      this.settle()
    }
  }

  /** attempt() handles its own failures; this only keeps a bug from becoming an unhandled rejection. */
  private background (work: Promise<void>): void {
    work.catch((err: unknown) => this.options.log.error({ err }, 'webhook dispatcher failed'))
  }

  private settle (): void {
    this.pendingDeliveries--
    if (this.pendingDeliveries === 0) this.wakeIdleWaiters()
  }

  private wakeIdleWaiters (): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }
}
