import { setTimeout as sleep } from 'node:timers/promises'
import Bottleneck from 'bottleneck'
import type { BaseLogger } from 'pino'
import { Agent, request, type Dispatcher } from 'undici'
import { findUnstorableContent } from '../../domain/storable-json.js'
import type { Metrics } from '../../metrics/metrics.js'
import { gamesoErrorSchema, gamesoOrderSchema, type GameSoOrder } from './gameso-schemas.js'

export type GameSoOperation = 'get_order' | 'create_order'

/** GameSO's error body `{status, code, message}`. */
export interface GameSoErrorBody {
  status: number
  code: string
  message: string
}

/** Every failure of a GameSO call; `sent` tells whether the request may have reached GameSO. */
export class UpstreamError extends Error {
  constructor (message: string, readonly operation: GameSoOperation, readonly sent: boolean, options?: ErrorOptions) {
    super(message, options)
    this.name = 'UpstreamError'
  }
}

/**
 * No answer in time. With `sent: false` the request never left the queue (the client was paused
 * or busy past the caller's deadline), so GameSO cannot have acted on it.
 */
export class UpstreamTimeoutError extends UpstreamError {
  constructor (operation: GameSoOperation, sent: boolean, readonly afterMs: number) {
    super(sent ? `GameSO did not answer within ${afterMs} ms` : `GameSO request still queued after ${afterMs} ms, not sent`, operation, sent)
    this.name = 'UpstreamTimeoutError'
  }
}

/** GameSO could not be reached (connection refused or reset, DNS), or the client is backing off. */
export class UpstreamUnavailableError extends UpstreamError {
  constructor (message: string, operation: GameSoOperation, sent: boolean, options?: ErrorOptions) {
    super(message, operation, sent, options)
    this.name = 'UpstreamUnavailableError'
  }
}

/** GameSO answered with an error status; its `{status, code, message}` body when it sent one. */
export class UpstreamHttpError extends UpstreamError {
  constructor (operation: GameSoOperation, readonly status: number, readonly body: GameSoErrorBody | null, message?: string, sent = true) {
    super(message ?? `GameSO answered ${status}${body ? ` ${body.code}: ${body.message}` : ''}`, operation, sent)
    this.name = 'UpstreamHttpError'
  }
}

/**
 * GameSO answered 429 (`sent: true`), or the client is still honouring an earlier 429's
 * Retry-After and did not send this call (`sent: false`).
 */
export class UpstreamRateLimitedError extends UpstreamHttpError {
  constructor (operation: GameSoOperation, body: GameSoErrorBody | null, readonly retryAfterMs: number, sent = true) {
    super(operation, 429, body,
      sent ? `GameSO rate limited the mirror; retry after ${retryAfterMs} ms` : `GameSO calls paused for ${retryAfterMs} ms after a 429`, sent)
    this.name = 'UpstreamRateLimitedError'
  }
}

/** GameSO answered 2xx with something that is not the order the mirror asked about. */
export class UpstreamInvalidResponseError extends UpstreamError {
  constructor (operation: GameSoOperation, readonly status: number, readonly rawBody: string, readonly problem: string) {
    super(`GameSO answered ${status} with an unusable body: ${problem}`, operation, true)
    this.name = 'UpstreamInvalidResponseError'
  }
}

export type GetOrderResult = { found: true, order: GameSoOrder } | { found: false }

/**
 * GameSO's answer to a create, kept as it came so the mirror can return it unchanged. `order` is
 * the validated order of a 200; `error` the parsed error body of any other status.
 */
export interface CreateOrderResult {
  status: number
  /** The body parsed as JSON, or null when it was not JSON. */
  body: unknown
  rawBody: string
  contentType: string | null
  order: GameSoOrder | null
  error: GameSoErrorBody | null
  /** Set on a 429: how long GameSO asked the mirror to wait. */
  retryAfterMs: number | null
}

export interface CallOptions {
  /**
   * `background` calls (the reconciler) queue behind interactive ones and never take the last
   * free request slot, so a merchant's request is not stuck behind a polling batch.
   */
  priority?: 'interactive' | 'background'
  /**
   * Latest moment (epoch ms) the request may be sent; later it rejects with an unsent
   * UpstreamTimeoutError. Interactive calls default to now + timeout and their whole call,
   * queueing included, stays within the timeout.
   */
  sendBy?: number
  /** Aborting rejects a queued call at once (unsent) and cancels one in flight. */
  signal?: AbortSignal
}

export type UpstreamMetrics = Pick<Metrics, 'upstreamRequestsTotal' | 'upstreamRequestSeconds'>

export interface GameSoClientOptions {
  baseUrl: string
  apiKey: string
  maxRequestsPerSecond: number
  maxConcurrency: number
  timeoutMs: number
  log: Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>
  metrics?: UpstreamMetrics
  /** GameSO documents no 429 at all: how long to pause when one comes without Retry-After. */
  defaultRetryAfterMs?: number
  /** Longest pause any Retry-After may impose, so one odd header cannot silence the client for hours. */
  maxPauseMs?: number
  /** First and longest pause after consecutive failures (5xx on reads, timeouts, network errors). */
  failureBackoffBaseMs?: number
  failureBackoffMaxMs?: number
  /** Larger answers are refused: a GameSO order is a few KiB. */
  maxResponseBytes?: number
}

const PROVIDER = 'gameso'
const INTERACTIVE_PRIORITY = 3
const BACKGROUND_PRIORITY = 7

interface HttpAnswer {
  status: number
  rawBody: string
  body: unknown
  contentType: string | null
  retryAfterMs: number | null
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function headerValue (value: string | string[] | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null
  return value ?? null
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfterMs (value: string | null, nowMs = Date.now()): number | null {
  if (value === null || value.trim() === '') return null
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs)
}

function describeIssues (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>, message: string }>): string {
  return issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ')
}

function errorBodyOf (body: unknown): GameSoErrorBody | null {
  const parsed = gamesoErrorSchema.safeParse(body)
  return parsed.success ? { status: parsed.data.status, code: parsed.data.code, message: parsed.data.message } : null
}

function isTransientStatus (status: number): boolean {
  return status >= 500
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

/**
 * Headroom added to the window: GameSO stamps arrivals after its own event-loop and network
 * delays, which vary by tens of milliseconds on a busy host, and a 429 costs a whole Retry-After.
 * 3 % kept the simulator's same-rate hard limit from answering 429 in the reconcile bench on a
 * quiet machine, where 2 % did not. Each 429 that gets through anyway doubles the headroom (up to
 * 25 %), and every answered request takes back 1/2000 of the excess, so a host where arrivals
 * jitter more — or a GameSO whose real limit is below the configured rate, which its docs do not
 * state — settles at a pace that stops costing pauses.
 */
const BASE_HEADROOM = 0.03
const MAX_HEADROOM = 0.25
const HEADROOM_DECAY = 1 / 2000

/**
 * At most the configured rate of sends in any sliding window. bottleneck spaces starts evenly,
 * but its timers fire late — and then together — after an event-loop stall, while GameSO counts
 * arrivals per window; checking at the moment of sending keeps every window within the limit.
 * Written here because bottleneck's reservoir refills in fixed windows, which allow twice the
 * rate across a window edge.
 */
export class SendWindow {
  private readonly limit: number
  private readonly baseWindowMs: number
  private readonly sent: number[] = []
  private oldest = 0
  private headroom = BASE_HEADROOM

  constructor (perSecond: number) {
    this.limit = Math.max(1, Math.round(perSecond))
    this.baseWindowMs = this.limit / perSecond * 1000
  }

  /** The window's current headroom over the configured rate, as a share (0.03 = 3 %). */
  get headroomShare (): number {
    return this.headroom
  }

  /** GameSO answered 429 although the window held. */
  rateLimited (): void {
    this.headroom = Math.min(MAX_HEADROOM, this.headroom * 2)
  }

  /** GameSO answered without a 429. */
  answered (): void {
    this.headroom -= (this.headroom - BASE_HEADROOM) * HEADROOM_DECAY
  }

  /** 0 when a send may go now (and records it); otherwise how long to wait before asking again. */
  reserve (now = performance.now()): number {
    if (this.sent.length < this.limit) {
      this.sent.push(now)
      return 0
    }
    const waitMs = (this.sent[this.oldest] as number) + this.baseWindowMs * (1 + this.headroom) - now
    if (waitMs > 0) return Math.ceil(waitMs)
    this.sent[this.oldest] = now
    this.oldest = (this.oldest + 1) % this.limit
    return 0
  }
}

/**
 * GameSO's order API (`GET /v1/orders/{reference_id}`, `POST /v1/orders`) behind one polite
 * gate: a client-side rate limit and bounded concurrency (bottleneck), a timeout per request, a
 * pause honouring 429 + Retry-After, and an exponential pause while GameSO keeps failing. Every
 * call is counted in the upstream metrics. Answers are validated; extra fields are kept.
 */
export class GameSoClient {
  private readonly agent: Agent
  private readonly limiter: Bottleneck
  /** Feeds `limiter`; one slot fewer, so interactive calls always find one. */
  private readonly background: Bottleneck
  private readonly options: Required<Omit<GameSoClientOptions, 'metrics'>> & { metrics: UpstreamMetrics | undefined }
  private readonly sendWindow: SendWindow
  private pausedUntil = 0
  private pauseReason: 'rate_limited' | 'failing' = 'failing'
  private pauseStartedAt = 0
  private resumeTimer: NodeJS.Timeout | undefined
  private consecutiveFailures = 0
  /** Set by a pause: the next request to go is a lone probe. */
  private needsProbe = false
  private probe: Promise<void> | undefined
  private closed = false

  constructor (options: GameSoClientOptions) {
    this.options = {
      defaultRetryAfterMs: 1000,
      maxPauseMs: 600_000,
      failureBackoffBaseMs: 250,
      failureBackoffMaxMs: 10_000,
      maxResponseBytes: 1024 * 1024,
      ...options,
      metrics: options.metrics
    }
    this.agent = new Agent({
      connections: options.maxConcurrency,
      maxResponseSize: this.options.maxResponseBytes,
      keepAliveTimeout: 10_000
    })
    this.limiter = new Bottleneck({
      maxConcurrent: options.maxConcurrency,
      // Even spacing rather than a per-second allowance: GameSO never sees a burst at a window edge.
      minTime: 1000 / options.maxRequestsPerSecond
    })
    this.sendWindow = new SendWindow(options.maxRequestsPerSecond)
    this.background = new Bottleneck({ maxConcurrent: Math.max(1, options.maxConcurrency - 1) })
    this.background.chain(this.limiter)
  }

  /** Milliseconds until the client sends again after a 429 or a run of failures; 0 when it sends now. */
  pausedForMs (now = Date.now()): number {
    return Math.max(0, this.pausedUntil - now)
  }

  /** Counters for health output. */
  state () {
    const pausedForMs = this.pausedForMs()
    return {
      pausedForMs,
      pauseReason: pausedForMs > 0 ? this.pauseReason : null,
      consecutiveFailures: this.consecutiveFailures,
      rateHeadroom: Math.round(this.sendWindow.headroomShare * 1000) / 1000,
      queued: this.limiter.counts().QUEUED + this.background.counts().QUEUED
    }
  }

  /** The order GameSO has under this reference, or `found: false` on GameSO's 404. */
  async getOrder (reference: string, options: CallOptions = {}): Promise<GetOrderResult> {
    const answer = await this.call('get_order', 'GET', `/v1/orders/${encodeURIComponent(reference)}`, undefined, options)
    if (answer.status === 200) {
      return { found: true, order: this.validOrder('get_order', answer, reference) }
    }
    const error = errorBodyOf(answer.body)
    // A 404 without GameSO's error body is a wrong base URL or a proxy, not "no such order": it
    // must not count towards marking an order not_found_upstream.
    if (answer.status === 404 && error !== null) return { found: false }
    if (answer.status === 429) throw new UpstreamRateLimitedError('get_order', error, answer.retryAfterMs ?? this.options.defaultRetryAfterMs)
    throw new UpstreamHttpError('get_order', answer.status, error)
  }

  /**
   * Forwards a create. Any HTTP answer comes back as GameSO sent it (the mirror relays it);
   * only a 200 whose body is not a valid order, a timeout or a network failure throws.
   */
  async createOrder (body: Readonly<Record<string, unknown>>, options: CallOptions = {}): Promise<CreateOrderResult> {
    const answer = await this.call('create_order', 'POST', '/v1/orders', JSON.stringify(body), options)
    const reference = typeof body.reference_id === 'string' ? body.reference_id : undefined
    const ok = answer.status >= 200 && answer.status < 300
    return {
      status: answer.status,
      body: answer.body,
      rawBody: answer.rawBody,
      contentType: answer.contentType,
      order: ok ? this.validOrder('create_order', answer, reference) : null,
      error: ok ? null : errorBodyOf(answer.body),
      retryAfterMs: answer.status === 429 ? answer.retryAfterMs ?? this.options.defaultRetryAfterMs : null
    }
  }

  /** Rejects queued calls and closes connections; calls in flight finish or fail. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.resumeTimer)
    await Promise.all([
      this.background.stop({ dropWaitingJobs: true }),
      this.limiter.stop({ dropWaitingJobs: true })
    ])
    await this.agent.close()
  }

  private validOrder (operation: GameSoOperation, answer: HttpAnswer, reference: string | undefined): GameSoOrder {
    // What PostgreSQL cannot store (a NUL, an unpaired surrogate, absurd nesting) is refused like
    // any other unusable answer, before it reaches a merge that would fail on it.
    const unstorable = findUnstorableContent(answer.body)
    if (unstorable !== null) {
      throw new UpstreamInvalidResponseError(operation, answer.status, answer.rawBody, `${unstorable.path}: ${unstorable.problem}`)
    }
    const parsed = gamesoOrderSchema.safeParse(answer.body)
    if (!parsed.success) {
      const problem = answer.body === null ? 'not JSON' : describeIssues(parsed.error.issues)
      throw new UpstreamInvalidResponseError(operation, answer.status, answer.rawBody, problem)
    }
    // Storing another order's data under this reference would corrupt the mirror.
    if (reference !== undefined && parsed.data.reference_id !== reference) {
      throw new UpstreamInvalidResponseError(operation, answer.status, answer.rawBody, `reference_id ${JSON.stringify(parsed.data.reference_id)} does not match the requested one`)
    }
    return parsed.data
  }

  private async call (operation: GameSoOperation, method: 'GET' | 'POST', path: string, body: string | undefined, options: CallOptions): Promise<HttpAnswer> {
    if (this.closed) throw new UpstreamUnavailableError('GameSO client is closed', operation, false)
    const calledAt = Date.now()
    const interactive = (options.priority ?? 'interactive') === 'interactive'
    const deadline = interactive ? calledAt + this.options.timeoutMs : undefined
    const sendBy = options.sendBy ?? deadline
    // Waiting out a pause that outlasts the caller's deadline only delays the same failure.
    const pausedForMs = this.pausedForMs(calledAt)
    if (sendBy !== undefined && calledAt + pausedForMs > sendBy) throw this.pausedError(operation, pausedForMs)

    const { signal } = options
    signal?.throwIfAborted()
    const job = () => this.send(operation, method, path, body, { signal, calledAt, sendBy, deadline })
    const scheduled = interactive
      ? this.limiter.schedule({ priority: INTERACTIVE_PRIORITY }, job)
      : this.background.schedule({ priority: BACKGROUND_PRIORITY }, job)
    if (!signal) return this.mapStopped(operation, scheduled)
    // The job stays queued after an abort; when its turn comes it sees the signal and sends nothing.
    scheduled.catch(() => {})
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(abortReason(signal))
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([this.mapStopped(operation, scheduled), aborted])
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort)
    }
  }

  private async mapStopped (operation: GameSoOperation, scheduled: Promise<HttpAnswer>): Promise<HttpAnswer> {
    try {
      return await scheduled
    } catch (error) {
      if (error instanceof Bottleneck.BottleneckError) throw new UpstreamUnavailableError('GameSO client is closed', operation, false, { cause: error })
      throw error
    }
  }

  private pausedError (operation: GameSoOperation, pausedForMs: number): UpstreamError {
    return this.pauseReason === 'rate_limited'
      ? new UpstreamRateLimitedError(operation, null, pausedForMs, false)
      : new UpstreamUnavailableError(`GameSO calls paused for ${pausedForMs} ms after repeated failures`, operation, false)
  }

  private async send (
    operation: GameSoOperation, method: 'GET' | 'POST', path: string, body: string | undefined,
    limits: { signal: AbortSignal | undefined, calledAt: number, sendBy: number | undefined, deadline: number | undefined }
  ): Promise<HttpAnswer> {
    const { signal, deadline } = limits
    const endProbe = await this.awaitTurn(operation, limits)
    try {
      return await this.exchange(operation, method, path, body, { signal, startedAt: Date.now(), deadline })
    } finally {
      endProbe?.()
    }
  }

  /**
   * Waits until this request may go: outside any pause, after the probe that follows a pause has
   * been answered, and within the send window. The first request after a pause becomes the probe
   * (the returned function ends it): jobs the limiter had already released must not all hit a
   * GameSO that just asked for quiet.
   */
  private async awaitTurn (
    operation: GameSoOperation, limits: { signal: AbortSignal | undefined, calledAt: number, sendBy: number | undefined }
  ): Promise<(() => void) | undefined> {
    const { signal, calledAt, sendBy } = limits
    // Every wait below loops back here, and nothing awaits between these checks and the return.
    for (;;) {
      if (signal?.aborted) throw abortReason(signal)
      const now = Date.now()
      if (sendBy !== undefined && now > sendBy) throw new UpstreamTimeoutError(operation, false, now - calledAt)
      const pausedForMs = this.pausedForMs(now)
      if (pausedForMs > 0) {
        if (sendBy !== undefined && now + pausedForMs > sendBy) throw this.pausedError(operation, pausedForMs)
        await sleep(pausedForMs)
        continue
      }
      if (this.probe) {
        await this.probe
        continue
      }
      const windowWaitMs = this.sendWindow.reserve()
      if (windowWaitMs > 0) {
        await sleep(windowWaitMs)
        continue
      }
      if (!this.needsProbe) return undefined
      this.needsProbe = false
      let answered: () => void = () => {}
      this.probe = new Promise<void>((resolve) => { answered = resolve })
      return () => {
        this.probe = undefined
        answered()
      }
    }
  }

  private async exchange (
    operation: GameSoOperation, method: 'GET' | 'POST', path: string, body: string | undefined,
    limits: { signal: AbortSignal | undefined, startedAt: number, deadline: number | undefined }
  ): Promise<HttpAnswer> {
    const { signal, startedAt, deadline } = limits
    const timeoutMs = deadline === undefined ? this.options.timeoutMs : Math.max(1, deadline - startedAt)
    const timeout = AbortSignal.timeout(timeoutMs)
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
    const started = performance.now()
    const observe = (status: string) => {
      this.options.metrics?.upstreamRequestsTotal.inc({ provider: PROVIDER, operation, status })
      this.options.metrics?.upstreamRequestSeconds.observe({ provider: PROVIDER, operation }, (performance.now() - started) / 1000)
    }

    let response: Dispatcher.ResponseData
    let rawBody: string
    try {
      response = await request(`${this.options.baseUrl}${path}`, {
        dispatcher: this.agent,
        method,
        headers: {
          'x-api-key': this.options.apiKey,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body,
        signal: combined
      })
      rawBody = await response.body.text()
    } catch (error) {
      if (timeout.aborted && !signal?.aborted) {
        observe('timeout')
        this.recordFailure(startedAt, `timeout after ${timeoutMs} ms`)
        throw new UpstreamTimeoutError(operation, true, timeoutMs)
      }
      if (signal?.aborted) {
        observe('aborted')
        throw abortReason(signal)
      }
      const code = (error as { code?: unknown }).code
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        observe('invalid')
        throw new UpstreamInvalidResponseError(operation, 0, '', `response larger than ${this.options.maxResponseBytes} bytes`)
      }
      observe('network')
      this.recordFailure(startedAt, typeof code === 'string' ? code : (error as Error).message)
      throw new UpstreamUnavailableError(`GameSO unreachable: ${typeof code === 'string' ? code : (error as Error).message}`, operation, true, { cause: error })
    }

    observe(String(response.statusCode))
    const answer: HttpAnswer = {
      status: response.statusCode,
      rawBody,
      body: parseJson(rawBody),
      contentType: headerValue(response.headers['content-type']),
      retryAfterMs: parseRetryAfterMs(headerValue(response.headers['retry-after']))
    }
    if (answer.status === 429) {
      this.sendWindow.rateLimited()
      this.pause(Math.min(answer.retryAfterMs ?? this.options.defaultRetryAfterMs, this.options.maxPauseMs), 'rate_limited')
    } else {
      this.sendWindow.answered()
      // A 503 to a create is GameSO's business answer ("balance insufficient"), relayed as is; a
      // 5xx to a read means GameSO is struggling.
      if (isTransientStatus(answer.status) && operation === 'get_order') this.recordFailure(startedAt, `HTTP ${answer.status}`)
      else this.consecutiveFailures = 0
    }
    return answer
  }

  /**
   * Failures of requests sent before the current pause began do not grow it: a burst of requests
   * in flight when GameSO went down counts once, not once per request.
   */
  private recordFailure (sentAt: number, reason: string): void {
    if (sentAt < this.pauseStartedAt) return
    this.consecutiveFailures++
    const pauseMs = Math.min(this.options.failureBackoffMaxMs, this.options.failureBackoffBaseMs * 2 ** (this.consecutiveFailures - 1))
    this.pause(pauseMs, 'failing', reason)
  }

  private pause (ms: number, reason: 'rate_limited' | 'failing', detail?: string): void {
    const now = Date.now()
    const until = now + ms
    if (until <= this.pausedUntil || this.closed) return
    this.pausedUntil = until
    this.pauseReason = reason
    this.pauseStartedAt = now
    this.needsProbe = true
    this.options.log.warn({ provider: PROVIDER, pauseMs: ms, reason, detail, consecutiveFailures: this.consecutiveFailures }, 'pausing GameSO calls')
    // A reservoir of 0 holds every queued job, whichever limiter it came through.
    this.limiter.updateSettings({ reservoir: 0 })
    this.scheduleResume(ms)
  }

  private scheduleResume (ms: number): void {
    clearTimeout(this.resumeTimer)
    this.resumeTimer = setTimeout(() => {
      const left = this.pausedForMs()
      if (left > 0) {
        this.scheduleResume(left)
        return
      }
      this.limiter.updateSettings({ reservoir: null })
    }, ms)
    this.resumeTimer.unref()
  }
}

/** The GameSO client for this configuration, or null when no GameSO API key is configured. */
export function createGameSoClient (
  config: { baseUrl: string, apiKey: string | undefined, maxRequestsPerSecond: number, maxConcurrency: number, timeoutMs: number },
  deps: { log: GameSoClientOptions['log'], metrics?: UpstreamMetrics }
): GameSoClient | null {
  if (!config.apiKey) return null
  return new GameSoClient({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    maxRequestsPerSecond: config.maxRequestsPerSecond,
    maxConcurrency: config.maxConcurrency,
    timeoutMs: config.timeoutMs,
    log: deps.log,
    metrics: deps.metrics
  })
}
