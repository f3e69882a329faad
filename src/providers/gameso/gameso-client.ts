import { findUnstorableContent } from '../../domain/storable-json.js'
import type { HttpAnswer, UpstreamMetrics } from '../../upstream/http-exchange.js'
import { UpstreamCaller, type UpstreamCallerOptions } from '../../upstream/upstream-caller.js'
import type { CallOptions, FetchOrderResult, UpstreamClientState, UpstreamOrderClient } from '../../upstream/upstream-client.js'
import {
  UpstreamHttpError, UpstreamInvalidResponseError, UpstreamRateLimitedError, type UpstreamCall
} from '../../upstream/upstream-errors.js'
import { gamesoErrorSchema, gamesoOrderSchema, type GameSoOrder } from './gameso-schemas.js'

export type GameSoOperation = 'get_order' | 'create_order'

const GAMESO = { provider: 'gameso', upstream: 'GameSO' } as const

/** A GameSO call's identity in errors, logs and metrics. */
export function gamesoCall (operation: GameSoOperation): UpstreamCall {
  return { ...GAMESO, operation }
}

/** GameSO's error body `{status, code, message}`. */
export interface GameSoErrorBody {
  status: number
  code: string
  message: string
}

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

export interface GameSoClientOptions extends Omit<UpstreamCallerOptions, 'provider' | 'upstream'> {
  apiKey: string
}

function describeIssues (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>, message: string }>): string {
  return issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ')
}

function errorBodyOf (body: unknown): GameSoErrorBody | null {
  const parsed = gamesoErrorSchema.safeParse(body)
  return parsed.success ? { status: parsed.data.status, code: parsed.data.code, message: parsed.data.message } : null
}

/**
 * GameSO's order API (`GET /v1/orders/{reference_id}`, `POST /v1/orders`) behind the shared
 * upstream throttle (rate limit, concurrency, 429 pauses, failure backoff). Answers are
 * validated; extra fields are kept.
 */
export class GameSoClient implements UpstreamOrderClient<GameSoOrder> {
  private readonly caller: UpstreamCaller
  private readonly apiKey: string

  constructor (options: GameSoClientOptions) {
    const { apiKey, ...callerOptions } = options
    this.apiKey = apiKey
    this.caller = new UpstreamCaller({ ...callerOptions, ...GAMESO })
  }

  pausedForMs (now?: number): number {
    return this.caller.pausedForMs(now)
  }

  state (): UpstreamClientState {
    return this.caller.state()
  }

  /** The order GameSO has under this reference, or `found: false` on GameSO's 404. */
  async fetchOrder (reference: string, options: CallOptions = {}): Promise<FetchOrderResult<GameSoOrder>> {
    const answer = await this.caller.call('get_order', () => ({
      method: 'GET', path: `/v1/orders/${encodeURIComponent(reference)}`, headers: this.headers(false)
    }), options)
    if (answer.status === 200) {
      return { found: true, order: this.validOrder('get_order', answer, reference) }
    }
    const error = errorBodyOf(answer.body)
    // A 404 without GameSO's error body is a wrong base URL or a proxy, not "no such order": it
    // must not count towards marking an order not_found_upstream.
    if (answer.status === 404 && error !== null) return { found: false }
    const call = gamesoCall('get_order')
    if (answer.status === 429) throw new UpstreamRateLimitedError(call, error, answer.retryAfterMs ?? this.caller.defaultRetryAfterMs, true, error)
    throw new UpstreamHttpError(call, answer.status, error, { code: error })
  }

  /**
   * Forwards a create. Any HTTP answer comes back as GameSO sent it (the mirror relays it);
   * only a 200 whose body is not a valid order, a timeout or a network failure throws.
   */
  async createOrder (body: Readonly<Record<string, unknown>>, options: CallOptions = {}): Promise<CreateOrderResult> {
    const payload = JSON.stringify(body)
    const answer = await this.caller.call('create_order', () => ({
      method: 'POST', path: '/v1/orders', headers: this.headers(true), body: payload
    }), {
      ...options,
      // A 503 to a create is GameSO's business answer ("balance insufficient"), relayed as is.
      countsAsFailure: () => false
    })
    const reference = typeof body.reference_id === 'string' ? body.reference_id : undefined
    const ok = answer.status >= 200 && answer.status < 300
    return {
      status: answer.status,
      body: answer.body,
      rawBody: answer.rawBody,
      contentType: answer.contentType,
      order: ok ? this.validOrder('create_order', answer, reference) : null,
      error: ok ? null : errorBodyOf(answer.body),
      retryAfterMs: answer.status === 429 ? answer.retryAfterMs ?? this.caller.defaultRetryAfterMs : null
    }
  }

  async close (): Promise<void> {
    await this.caller.close()
  }

  private headers (withBody: boolean): Record<string, string> {
    return {
      'x-api-key': this.apiKey,
      accept: 'application/json',
      ...(withBody ? { 'content-type': 'application/json' } : {})
    }
  }

  private validOrder (operation: GameSoOperation, answer: HttpAnswer, reference: string | undefined): GameSoOrder {
    const call = gamesoCall(operation)
    // What PostgreSQL cannot store (a NUL, an unpaired surrogate, absurd nesting) is refused like
    // any other unusable answer, before it reaches a merge that would fail on it.
    const unstorable = findUnstorableContent(answer.body)
    if (unstorable !== null) {
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, `${unstorable.path}: ${unstorable.problem}`)
    }
    const parsed = gamesoOrderSchema.safeParse(answer.body)
    if (!parsed.success) {
      const problem = answer.body === null ? 'not JSON' : describeIssues(parsed.error.issues)
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, problem)
    }
    // Storing another order's data under this reference would corrupt the mirror.
    if (reference !== undefined && parsed.data.reference_id !== reference) {
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, `reference_id ${JSON.stringify(parsed.data.reference_id)} does not match the requested one`)
    }
    return parsed.data
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
