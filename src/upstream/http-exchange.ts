import { Agent, request, type Dispatcher } from 'undici'
import type { Metrics } from '../metrics/metrics.js'
import { systemClock, type Clock } from './clock.js'
import { parseRetryAfterMs } from './retry-after.js'

export type UpstreamMetrics = Pick<Metrics, 'upstreamRequestsTotal' | 'upstreamRequestSeconds'>

export interface HttpRequest {
  method: 'GET' | 'POST'
  /** Appended to the base URL as it is: encode path segments before. */
  path: string
  headers: Record<string, string>
  body?: string
}

export interface HttpAnswer {
  status: number
  rawBody: string
  /** The body parsed as JSON, or null when it was not JSON. */
  body: unknown
  contentType: string | null
  /** Retry-After in milliseconds, null when absent or unreadable. */
  retryAfterMs: number | null
}

/** How one request ended; only `answer` carries an HTTP status. */
export type ExchangeResult =
  | { kind: 'answer', answer: HttpAnswer }
  | { kind: 'timeout' }
  | { kind: 'aborted', reason: Error }
  | { kind: 'too_large' }
  | { kind: 'network', reason: string, cause: unknown }

export interface HttpExchangeOptions {
  provider: string
  baseUrl: string
  maxConnections: number
  /** Larger answers are refused: an upstream order is a few KiB. */
  maxResponseBytes: number
  metrics?: UpstreamMetrics | undefined
  clock?: Clock
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

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

/**
 * One HTTP request to an upstream and its whole answer: a timeout on the injected clock, a cap on
 * the answer's size, and every request counted in order_mirror_upstream_requests_total (by HTTP
 * status, or `timeout`, `aborted`, `invalid` for an oversized answer, `network`) with its latency.
 */
export class HttpExchange {
  private readonly agent: Agent
  private readonly clock: Clock

  constructor (private readonly options: HttpExchangeOptions) {
    this.clock = options.clock ?? systemClock
    this.agent = new Agent({
      connections: options.maxConnections,
      maxResponseSize: options.maxResponseBytes,
      keepAliveTimeout: 10_000
    })
  }

  async send (operation: string, outgoing: HttpRequest, limits: { timeoutMs: number, signal: AbortSignal | undefined }): Promise<ExchangeResult> {
    const { signal, timeoutMs } = limits
    const timeout = new AbortController()
    const answered = new AbortController()
    this.clock.sleep(timeoutMs, answered.signal).then(() => timeout.abort(new Error(`timeout after ${timeoutMs} ms`)), () => {})
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal
    const started = performance.now()
    const observe = (status: string) => {
      this.options.metrics?.upstreamRequestsTotal.inc({ provider: this.options.provider, operation, status })
      this.options.metrics?.upstreamRequestSeconds.observe({ provider: this.options.provider, operation }, (performance.now() - started) / 1000)
    }

    let response: Dispatcher.ResponseData
    let rawBody: string
    try {
      response = await request(`${this.options.baseUrl}${outgoing.path}`, {
        dispatcher: this.agent,
        method: outgoing.method,
        headers: outgoing.headers,
        body: outgoing.body,
        signal: combined
      })
      rawBody = await response.body.text()
    } catch (error) {
      if (timeout.signal.aborted && !signal?.aborted) {
        observe('timeout')
        return { kind: 'timeout' }
      }
      if (signal?.aborted) {
        observe('aborted')
        return { kind: 'aborted', reason: abortReason(signal) }
      }
      const code = (error as { code?: unknown }).code
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        observe('invalid')
        return { kind: 'too_large' }
      }
      observe('network')
      return { kind: 'network', reason: typeof code === 'string' ? code : (error as Error).message, cause: error }
    } finally {
      answered.abort()
    }

    observe(String(response.statusCode))
    return {
      kind: 'answer',
      answer: {
        status: response.statusCode,
        rawBody,
        body: parseJson(rawBody),
        contentType: headerValue(response.headers['content-type']),
        retryAfterMs: parseRetryAfterMs(headerValue(response.headers['retry-after']), this.clock.now())
      }
    }
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
