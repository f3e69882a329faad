import type { FastifyBaseLogger } from 'fastify'
import { Agent, request } from 'undici'
import type { Faults } from './faults.js'
import type { Random } from './random.js'
import type { SimulatorStats } from './stats.js'

/** Sockets kept per receiver: enough for bursts, few enough that 10,000 events queue, not flood. */
const CONNECTIONS_PER_RECEIVER = 64
/** More of an answer than any receipt needs; the rest is discarded unread. */
const MAX_ANSWER_BYTES = 64 * 1024

/** Where and how long, read live so the control API can retarget deliveries mid-run. */
export interface DeliverySettings {
  webhookUrls: readonly string[]
  webhookTimeoutMs: number
}

/** One upstream event, serialized once: every URL, copy and retry carries these bytes. */
export interface Notification {
  /** Counted by this name in the stats (`webhooks.byEvent`). */
  event: string
  referenceId: string
  body: Buffer
  /** The headers of one attempt; an upstream that signs every attempt afresh builds them anew. */
  headers: () => Record<string, string>
}

interface Delivery extends Notification {
  url: string
  attempts: number
}

export interface WebhookDispatcherOptions {
  settings: DeliverySettings
  /** The wait before retry number `retry` (1 is the first); undefined gives the delivery up. */
  retryDelayMs: (retry: number) => number | undefined
  /** Whether an answer counts as received; unset, any 2xx does. */
  accepts?: (statusCode: number, body: string) => boolean
  faults: () => Readonly<Faults>
  random: Random
  stats: SimulatorStats
  log: FastifyBaseLogger
}

async function readAnswer (body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    if (size < MAX_ANSWER_BYTES) chunks.push(chunk)
    size += chunk.length
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8')
}

/**
 * Sends webhooks with the upstream's retry policy and the webhook faults: drop, duplicate, delay
 * and reorder. Each event is serialized once, when the order changes, so a retry or a late copy
 * carries the snapshot of that moment.
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

  /**
   * Sends one event to every configured URL, through the drop and duplicate faults. Counted as
   * generated even when no URL is configured, so a test sees what would have been sent.
   */
  send (notification: Notification): void {
    const { settings, stats, random } = this.options
    if (this.closed) return
    stats.webhookGenerated(notification.event)
    const faults = this.options.faults()
    for (const url of settings.webhookUrls) {
      if (random.chance(faults.dropRate)) {
        stats.webhooks.dropped++
        continue
      }
      let copies = 1
      while (copies < 4 && random.chance(faults.duplicateRate)) copies++
      stats.webhooks.duplicated += copies - 1
      for (let copy = 0; copy < copies; copy++) this.enqueue({ ...notification, url, attempts: 0 })
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
    let accepted = false
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        headers: delivery.headers(),
        body: delivery.body,
        dispatcher: this.agent,
        signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(settings.webhookTimeoutMs)])
      })
      const { accepts } = this.options
      if (accepts) {
        accepted = accepts(response.statusCode, await readAnswer(response.body))
      } else {
        await response.body.dump()
        accepted = response.statusCode >= 200 && response.statusCode < 300
      }
      outcome = { statusCode: response.statusCode }
    } catch (err) {
      outcome = { err }
    }
    if (this.closed) return
    const context = { url: delivery.url, event: delivery.event, referenceId: delivery.referenceId, attempt: delivery.attempts, ...outcome }
    const retryDelayMs = accepted ? undefined : this.options.retryDelayMs(delivery.attempts)
    if (accepted) {
      stats.webhooks.delivered++
      this.settle()
    } else if (retryDelayMs !== undefined) {
      stats.webhooks.retried++
      log.debug(context, 'webhook delivery failed, retrying')
      this.later(retryDelayMs, delivery)
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
