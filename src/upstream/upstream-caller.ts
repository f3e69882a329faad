import type { BaseLogger } from 'pino'
import { requestIdHeader } from '../tracing/request-id.js'
import { inSpan, SpanKind, traceContextHeaders } from '../tracing/spans.js'
import type { Clock } from './clock.js'
import { HttpExchange, type HttpAnswer, type HttpRequest, type UpstreamMetrics } from './http-exchange.js'
import { UpstreamThrottle } from './throttle.js'
import type { CallOptions, UpstreamClientState } from './upstream-client.js'
import {
  UpstreamInvalidResponseError, UpstreamTimeoutError, UpstreamUnavailableError, type UpstreamCall
} from './upstream-errors.js'

export interface UpstreamCallerOptions {
  /** The provider's id: the `provider` label in metrics and logs. */
  provider: string
  /** The upstream's name as messages and log lines spell it. */
  upstream: string
  baseUrl: string
  maxRequestsPerSecond: number
  maxConcurrency: number
  timeoutMs: number
  /** `debug`: one line per answer, with the request id it was sent under. */
  log: Pick<BaseLogger, 'warn' | 'debug'>
  metrics?: UpstreamMetrics | undefined
  clock?: Clock
  /** How long to pause after a 429 that came without Retry-After (neither upstream documents a 429). */
  defaultRetryAfterMs?: number
  /** Longest pause any Retry-After may impose, so one odd header cannot silence the client for hours. */
  maxPauseMs?: number
  failureBackoffBaseMs?: number
  failureBackoffMaxMs?: number
  maxResponseBytes?: number
}

export interface UpstreamCallOptions extends CallOptions {
  /** Whether an answer with this status means the upstream is struggling (default: any 5xx). */
  countsAsFailure?: (status: number) => boolean
}

const serverError = (status: number) => status >= 500

/**
 * An upstream's HTTP calls through its throttle: the request is built when its turn comes (so a
 * signature's timestamp is the sending time), sent with a timeout that keeps an interactive call
 * within its deadline, and its outcome fed back — 429 pauses for Retry-After, failures back off.
 * Answers of any status come back as they are; only what has no answer throws, as a typed
 * UpstreamError.
 */
export class UpstreamCaller {
  readonly defaultRetryAfterMs: number
  private readonly throttle: UpstreamThrottle
  private readonly exchange: HttpExchange
  private readonly maxPauseMs: number
  private readonly maxResponseBytes: number
  private closing: Promise<void> | undefined

  constructor (private readonly options: UpstreamCallerOptions) {
    this.defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000
    this.maxPauseMs = options.maxPauseMs ?? 600_000
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024
    this.throttle = new UpstreamThrottle({
      provider: options.provider,
      upstream: options.upstream,
      maxRequestsPerSecond: options.maxRequestsPerSecond,
      maxConcurrency: options.maxConcurrency,
      log: options.log,
      clock: options.clock,
      failureBackoffBaseMs: options.failureBackoffBaseMs,
      failureBackoffMaxMs: options.failureBackoffMaxMs
    })
    this.exchange = new HttpExchange({
      provider: options.provider,
      baseUrl: options.baseUrl,
      maxConnections: options.maxConcurrency,
      maxResponseBytes: this.maxResponseBytes,
      metrics: options.metrics,
      clock: options.clock
    })
  }

  pausedForMs (now?: number): number {
    return this.throttle.pausedForMs(now)
  }

  state (): UpstreamClientState {
    return this.throttle.state()
  }

  /** One call, in a client span (queueing in the throttle included) that the upstream sees as its parent. */
  async call (operation: string, prepare: () => HttpRequest, options: UpstreamCallOptions = {}): Promise<HttpAnswer> {
    const { provider } = this.options
    return inSpan(`${provider} ${operation}`, { 'order_mirror.provider': provider, 'order_mirror.operation': operation }, async (span) => {
      // Read now: the throttle may send this call from inside another one's turn, in its context.
      const correlation = { ...requestIdHeader(options.requestId), ...traceContextHeaders() }
      const answer = await this.send(operation, () => {
        const outgoing = prepare()
        return { ...outgoing, headers: { ...outgoing.headers, ...correlation } }
      }, options)
      span.setAttribute('http.response.status_code', answer.status)
      this.options.log.debug({ provider, operation, status: answer.status, requestId: correlation['x-request-id'] ?? null }, 'upstream answered')
      return answer
    }, SpanKind.CLIENT)
  }

  private async send (operation: string, prepare: () => HttpRequest, options: UpstreamCallOptions): Promise<HttpAnswer> {
    const call: UpstreamCall = { provider: this.options.provider, upstream: this.options.upstream, operation }
    const priority = options.priority ?? 'interactive'
    const deadline = priority === 'interactive' ? this.throttle.now() + this.options.timeoutMs : undefined
    const sendBy = options.sendBy ?? deadline
    const countsAsFailure = options.countsAsFailure ?? serverError

    return this.throttle.run(call, { priority, sendBy, signal: options.signal }, async (turn) => {
      const timeoutMs = deadline === undefined ? this.options.timeoutMs : Math.max(1, deadline - turn.sentAt)
      const result = await this.exchange.send(operation, prepare(), { timeoutMs, signal: options.signal })
      switch (result.kind) {
        case 'timeout':
          turn.failed(`timeout after ${timeoutMs} ms`)
          throw new UpstreamTimeoutError(call, true, timeoutMs)
        case 'aborted':
          throw result.reason
        case 'too_large':
          throw new UpstreamInvalidResponseError(call, 0, '', `response larger than ${this.maxResponseBytes} bytes`)
        case 'network':
          turn.failed(result.reason)
          throw new UpstreamUnavailableError(`${this.options.upstream} unreachable: ${result.reason}`, call, true, { cause: result.cause })
      }
      const { answer } = result
      if (answer.status === 429) turn.rateLimited(Math.min(answer.retryAfterMs ?? this.defaultRetryAfterMs, this.maxPauseMs))
      else turn.answered(countsAsFailure(answer.status) ? `HTTP ${answer.status}` : undefined)
      return answer
    })
  }

  /** Rejects queued calls and closes connections; calls in flight finish or fail. */
  async close (): Promise<void> {
    this.throttle.close()
    this.closing ??= this.exchange.close()
    await this.closing
  }
}
