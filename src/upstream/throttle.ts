import type { BaseLogger } from 'pino'
import { systemClock, type Clock } from './clock.js'
import { AnswerBoundWindow } from './answer-bound-window.js'
import { RateHeadroom } from './rate-headroom.js'
import type { CallPriority, PauseReason, UpstreamClientState } from './upstream-client.js'
import {
  UpstreamRateLimitedError, UpstreamTimeoutError, UpstreamUnavailableError, type UpstreamCall, type UpstreamError
} from './upstream-errors.js'

/*
 * Written here rather than taken from a library, because none does what measurement showed an
 * upstream client needs (checked: bottleneck 2.19, dormant since 2019; p-queue 8, the last line
 * for Node 20; cockatiel 3, as 4 needs Node 22; p-throttle 8; limiter 4; rate-limiter-flexible 11):
 * - the rate is checked at the moment of sending, over a window in which a request counts until
 *   a window after its answer (AnswerBoundWindow). Libraries that space starts with timers
 *   (bottleneck's minTime, p-throttle) release late timers together after an event-loop stall,
 *   fixed-window counters (bottleneck's reservoir, p-queue's interval, limiter,
 *   rate-limiter-flexible's memory limiter) allow twice the rate across a window edge, and all of
 *   them count a request from its start, while an upstream counts arrivals in any window;
 * - a pause (429 + Retry-After, or a run of failures) holds queued calls instead of failing them,
 *   and ends with one lone probe. cockatiel's breaker fails calls while open and cannot take its
 *   open time from a Retry-After; the others have no breaker;
 * - a slot is kept for interactive calls while background work fills the rest, which needs
 *   two chained queues in bottleneck or p-queue;
 * - per-call send-by deadlines, abort signals, and an injected clock so all of it is tested
 *   without waiting.
 */

export interface ThrottleOptions {
  provider: string
  /** The upstream's name as messages and log lines spell it. */
  upstream: string
  maxRequestsPerSecond: number
  maxConcurrency: number
  log: Pick<BaseLogger, 'warn'>
  clock?: Clock
  /** First and longest pause after consecutive failures (5xx on reads, timeouts, network errors). */
  failureBackoffBaseMs?: number
  failureBackoffMaxMs?: number
}

export interface ScheduleOptions {
  priority: CallPriority
  /** Latest moment (epoch ms) the task may start; see CallOptions. */
  sendBy: number | undefined
  signal: AbortSignal | undefined
}

/** Handed to a task when its request may go; the task tells the throttle how the upstream took it. */
export interface Turn {
  /** When the throttle let the request go (epoch ms). */
  readonly sentAt: number
  /** The upstream answered 429: pause every call for this long. */
  rateLimited (pauseMs: number): void
  /** The upstream answered; `failure` names an answer that shows it struggling (a 5xx to a read). */
  answered (failure?: string): void
  /** No answer at all (timeout, network error). */
  failed (reason: string): void
}

/**
 * Sends are spaced evenly at the configured rate, so the upstream never sees a burst. A send that
 * goes late (a timer fired late, the event loop stalled) lets the ones behind it catch up, but by
 * no more than this much time: the average holds the rate without releasing a long stall's
 * backlog at once. The answer-bound window stays the hard limit either way.
 */
const CATCH_UP_MS = 100

interface Job {
  call: UpstreamCall
  priority: CallPriority
  sendBy: number | undefined
  calledAt: number
  start: (turn: Turn) => void
  reject: (error: unknown) => void
  /** Ends the job's send-by timer and abort listener once it leaves the queue. */
  leftQueue: AbortController
  /** The lone request after a pause: nothing else goes until it settles. */
  probe: boolean
  /** Sent and not yet answered: it holds a place in the rate window. */
  holdsPlace: boolean
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

/**
 * The polite gate in front of one upstream: at most the configured rate of requests in any
 * window as the upstream counts them (AnswerBoundWindow, with the adaptive headroom of
 * RateHeadroom), at most `maxConcurrency` requests in flight with one kept for interactive calls,
 * interactive calls first, a pause honouring 429 + Retry-After, an exponential pause while the
 * upstream keeps failing, and one probe after every pause before anything else goes.
 */
export class UpstreamThrottle {
  private readonly clock: Clock
  private readonly window: AnswerBoundWindow
  private readonly spacingMs: number
  /** Earliest moment the next send may go, by even spacing. */
  private nextSendAt = Number.NEGATIVE_INFINITY
  private readonly headroom = new RateHeadroom()
  private readonly backgroundConcurrency: number
  private readonly failureBackoffBaseMs: number
  private readonly failureBackoffMaxMs: number
  private readonly interactive = new Set<Job>()
  private readonly background = new Set<Job>()
  private running = 0
  private backgroundRunning = 0
  private pausedUntil = 0
  private pauseReason: PauseReason = 'failing'
  private pauseStartedAt = Number.NEGATIVE_INFINITY
  private consecutiveFailures = 0
  /** Set by a pause: the next request to go is a lone probe. */
  private needsProbe = false
  private probeInFlight = false
  private wakeAt: number | undefined
  private wakeTimer: AbortController | undefined
  private closed = false

  constructor (private readonly options: ThrottleOptions) {
    this.clock = options.clock ?? systemClock
    this.window = AnswerBoundWindow.perSecond(options.maxRequestsPerSecond)
    this.spacingMs = 1000 / options.maxRequestsPerSecond
    this.backgroundConcurrency = Math.max(1, options.maxConcurrency - 1)
    this.failureBackoffBaseMs = options.failureBackoffBaseMs ?? 250
    this.failureBackoffMaxMs = options.failureBackoffMaxMs ?? 10_000
  }

  now (): number {
    return this.clock.now()
  }

  pausedForMs (now = this.clock.now()): number {
    return Math.max(0, this.pausedUntil - now)
  }

  state (): UpstreamClientState {
    const pausedForMs = this.pausedForMs()
    return {
      pausedForMs,
      pauseReason: pausedForMs > 0 ? this.pauseReason : null,
      consecutiveFailures: this.consecutiveFailures,
      rateHeadroom: Math.round(this.headroom.share * 1000) / 1000,
      queued: this.interactive.size + this.background.size
    }
  }

  /**
   * Runs `task` when its request may go, holding a request slot until it settles. Rejects
   * without running it (an unsent error) when the throttle is closed, the call's send-by time
   * passes or a pause outlasts it first, or its signal aborts while it waits.
   */
  async run<T> (call: UpstreamCall, options: ScheduleOptions, task: (turn: Turn) => Promise<T>): Promise<T> {
    if (this.closed) throw this.closedError(call)
    const calledAt = this.clock.now()
    // Waiting out a pause that outlasts the caller's deadline only delays the same failure.
    const pausedForMs = this.pausedForMs(calledAt)
    if (options.sendBy !== undefined && calledAt + pausedForMs > options.sendBy) throw this.pausedError(call, pausedForMs)
    const { signal } = options
    signal?.throwIfAborted()

    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        call,
        priority: options.priority,
        sendBy: options.sendBy,
        calledAt,
        reject,
        leftQueue: new AbortController(),
        probe: false,
        holdsPlace: false,
        start: (turn) => {
          let settled: Promise<T>
          try {
            settled = task(turn)
          } catch (error) {
            settled = Promise.reject(error)
          }
          settled.then(resolve, reject).finally(() => this.finished(job))
        }
      }
      // After a quiet spell the schedule starts from now, not from a catch-up credit.
      if (this.interactive.size + this.background.size === 0) this.nextSendAt = Math.max(this.nextSendAt, calledAt)
      this.queueOf(job).add(job)
      signal?.addEventListener('abort', () => this.drop(job, abortReason(signal)), { once: true, signal: job.leftQueue.signal })
      if (options.sendBy !== undefined) {
        // One past the send-by time: a call may still go at exactly its send-by moment.
        this.clock.sleep(Math.max(0, options.sendBy - calledAt) + 1, job.leftQueue.signal)
          .then(() => this.drop(job, this.expiredError(job)), () => {})
      }
      this.drain()
    })
  }

  /** Rejects every queued call (unsent); calls in flight finish or fail. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.wakeTimer?.abort()
    for (const job of [...this.interactive, ...this.background]) this.drop(job, this.closedError(job.call))
  }

  private queueOf (job: Job): Set<Job> {
    return job.priority === 'interactive' ? this.interactive : this.background
  }

  /** Takes a queued job out and rejects it; nothing when it already left the queue. */
  private drop (job: Job, error: unknown): void {
    if (!this.queueOf(job).delete(job)) return
    job.leftQueue.abort()
    job.reject(error)
  }

  /** Starts every job that may go now, or sets a timer for when the next one may. */
  private drain (): void {
    while (!this.closed && !this.probeInFlight) {
      const now = this.clock.now()
      const pausedForMs = this.pausedForMs(now)
      if (pausedForMs > 0) {
        if (this.interactive.size + this.background.size > 0) this.wakeIn(now, pausedForMs)
        return
      }
      const job = this.nextStartable(now)
      if (job === undefined) return
      const spacingWaitMs = this.nextSendAt - now
      if (spacingWaitMs > 0) {
        this.wakeIn(now, Math.ceil(spacingWaitMs))
        return
      }
      // Reserved at the moment of sending: nothing awaits between this and the request leaving.
      const windowWaitMs = this.window.reserve(now, this.headroom.windowStretch)
      // Every place waits on an answer: the next one to settle drains again.
      if (windowWaitMs === undefined) return
      if (windowWaitMs > 0) {
        this.wakeIn(now, windowWaitMs)
        return
      }
      this.start(job, now)
    }
  }

  /** The first queued job a free slot allows, interactive first; expired ones are rejected on the way. */
  private nextStartable (now: number): Job | undefined {
    if (this.running >= this.options.maxConcurrency) return undefined
    const queues = this.backgroundRunning < this.backgroundConcurrency ? [this.interactive, this.background] : [this.interactive]
    for (const queue of queues) {
      for (const job of queue) {
        if (job.sendBy === undefined || now <= job.sendBy) return job
        this.drop(job, this.expiredError(job, now))
      }
    }
    return undefined
  }

  private start (job: Job, now: number): void {
    this.queueOf(job).delete(job)
    job.leftQueue.abort()
    this.running++
    if (job.priority === 'background') this.backgroundRunning++
    job.holdsPlace = true
    // A pause sent the jobs behind it back to the queue: only this one goes until it is answered,
    // so a burst released together does not hit an upstream that just asked for quiet. Nor does
    // the time paused count as sends to catch up on.
    if (this.needsProbe) {
      this.needsProbe = false
      this.probeInFlight = true
      job.probe = true
      this.nextSendAt = now + this.spacingMs
    } else {
      this.nextSendAt = Math.max(this.nextSendAt, now - CATCH_UP_MS) + this.spacingMs
    }
    job.start(this.turn(job, now))
  }

  /** The request's answer (or failure) came: its place in the window frees a window from now. */
  private settle (job: Job): void {
    if (!job.holdsPlace) return
    job.holdsPlace = false
    this.window.settle(this.clock.now())
  }

  private finished (job: Job): void {
    // A task that ended without telling how the upstream took it (aborted, unreadable answer).
    this.settle(job)
    this.running--
    if (job.priority === 'background') this.backgroundRunning--
    if (job.probe) this.probeInFlight = false
    this.drain()
  }

  private turn (job: Job, sentAt: number): Turn {
    return {
      sentAt,
      rateLimited: (pauseMs) => {
        this.settle(job)
        this.headroom.rateLimited()
        this.pause(pauseMs, 'rate_limited')
      },
      answered: (failure) => {
        this.settle(job)
        this.headroom.answered()
        if (failure === undefined) this.consecutiveFailures = 0
        else this.recordFailure(sentAt, failure)
      },
      failed: (reason) => {
        this.settle(job)
        this.recordFailure(sentAt, reason)
      }
    }
  }

  /**
   * Failures of requests sent before the current pause began do not grow it: a burst of requests
   * in flight when the upstream went down counts once, not once per request. Nothing is sent
   * during a pause, so one sent in the very millisecond it began was sent before it.
   */
  private recordFailure (sentAt: number, reason: string): void {
    if (sentAt <= this.pauseStartedAt) return
    this.consecutiveFailures++
    const pauseMs = Math.min(this.failureBackoffMaxMs, this.failureBackoffBaseMs * 2 ** (this.consecutiveFailures - 1))
    this.pause(pauseMs, 'failing', reason)
  }

  private pause (ms: number, reason: PauseReason, detail?: string): void {
    const now = this.clock.now()
    const until = now + ms
    if (until <= this.pausedUntil || this.closed) return
    this.pausedUntil = until
    this.pauseReason = reason
    this.pauseStartedAt = now
    this.needsProbe = true
    this.options.log.warn({ provider: this.options.provider, pauseMs: ms, reason, detail, consecutiveFailures: this.consecutiveFailures }, `pausing ${this.options.upstream} calls`)
    for (const job of [...this.interactive, ...this.background]) {
      if (job.sendBy !== undefined && until > job.sendBy) this.drop(job, this.pausedError(job.call, ms))
    }
    this.drain()
  }

  private wakeIn (now: number, ms: number): void {
    const at = now + ms
    if (this.wakeAt !== undefined && this.wakeAt <= at) return
    this.wakeTimer?.abort()
    const timer = new AbortController()
    this.wakeTimer = timer
    this.wakeAt = at
    this.clock.sleep(ms, timer.signal).then(() => {
      if (this.wakeTimer !== timer) return
      this.wakeTimer = undefined
      this.wakeAt = undefined
      this.drain()
    }, () => {})
  }

  private pausedError (call: UpstreamCall, pausedForMs: number): UpstreamError {
    return this.pauseReason === 'rate_limited'
      ? new UpstreamRateLimitedError(call, null, pausedForMs, false)
      : new UpstreamUnavailableError(`${this.options.upstream} calls paused for ${pausedForMs} ms after repeated failures`, call, false)
  }

  private expiredError (job: Job, now = this.clock.now()): UpstreamError {
    return new UpstreamTimeoutError(job.call, false, now - job.calledAt)
  }

  private closedError (call: UpstreamCall): UpstreamError {
    return new UpstreamUnavailableError(`${this.options.upstream} client is closed`, call, false)
  }
}
