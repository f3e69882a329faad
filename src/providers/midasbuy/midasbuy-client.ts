import { createPrivateKey, type KeyObject } from 'node:crypto'
import type { Config } from '../../config.js'
import { findUnstorableContent } from '../../domain/storable-json.js'
import { systemClock, type Clock } from '../../upstream/clock.js'
import type { HttpAnswer, UpstreamMetrics } from '../../upstream/http-exchange.js'
import { UpstreamCaller, type UpstreamCallerOptions } from '../../upstream/upstream-caller.js'
import type { CallOptions, FetchOrderResult, UpstreamClientState, UpstreamOrderClient } from '../../upstream/upstream-client.js'
import {
  UpstreamHttpError, UpstreamInvalidResponseError, UpstreamRateLimitedError, UpstreamUnauthorizedError, type UpstreamCall
} from '../../upstream/upstream-errors.js'
import { DEFAULT_REQUEST_SIGNING, signMidasBuyRequest, type RequestSigningOptions } from './midasbuy-request-signature.js'
import { midasbuyErrorSchema, midasbuyOrderSchema, type MidasBuyErrorBody, type MidasBuyOrder } from './midasbuy-schemas.js'

export type MidasBuyOperation = 'order_query'

const MIDASBUY = { provider: 'midasbuy', upstream: 'MidasBuy' } as const
const ORDER_QUERY_PATH = '/v2/orders'

/** A MidasBuy call's identity in errors, logs and metrics. */
export function midasbuyCall (operation: MidasBuyOperation): UpstreamCall {
  return { ...MIDASBUY, operation }
}

/**
 * An error answer that means "MidasBuy has no such order". MidasBuy documents no 404 body, so
 * which answers these are is configuration; `404` + `NOT_FOUND` is the working assumption.
 */
export interface NotFoundAnswer {
  status: number
  name: string
}

export const DEFAULT_NOT_FOUND_ANSWERS: readonly NotFoundAnswer[] = Object.freeze([{ status: 404, name: 'NOT_FOUND' }])

export interface MidasBuyClientOptions extends Omit<UpstreamCallerOptions, 'provider' | 'upstream'> {
  appId: string
  /** Serial number of the merchant certificate registered with MidasBuy. */
  certSerialNo: string
  merchantPrivateKey: KeyObject
  signing?: RequestSigningOptions
  notFoundAnswers?: readonly NotFoundAnswer[]
}

function describeIssues (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>, message: string }>): string {
  return issues.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ')
}

function errorBodyOf (body: unknown): MidasBuyErrorBody | null {
  const parsed = midasbuyErrorSchema.safeParse(body)
  return parsed.success ? parsed.data : null
}

/** A request the signature or credentials are wrong for: retrying at full rate would only repeat it. */
function refusedCredentials (status: number): boolean {
  return status === 401 || status === 403
}

/**
 * MidasBuy's OrderQuery (`POST {MIDASBUY_BASE_URL}/v2/orders`, body `{"id": …}`), every request
 * signed with the merchant key, behind the shared upstream throttle. Answers are validated with
 * the same schema as payment notifications and must be the order asked for; error bodies
 * (`{name, message, details, debug_id, causes}`) become typed errors.
 */
export class MidasBuyClient implements UpstreamOrderClient<MidasBuyOrder> {
  private readonly caller: UpstreamCaller
  private readonly clock: Clock
  private readonly orderQueryUrl: URL
  private readonly credentials: { appId: string, serialNo: string, privateKey: KeyObject }
  private readonly signing: RequestSigningOptions
  private readonly notFoundAnswers: readonly NotFoundAnswer[]

  constructor (options: MidasBuyClientOptions) {
    const { appId, certSerialNo, merchantPrivateKey, signing, notFoundAnswers, ...callerOptions } = options
    this.caller = new UpstreamCaller({ ...callerOptions, ...MIDASBUY })
    this.clock = options.clock ?? systemClock
    this.orderQueryUrl = new URL(`${options.baseUrl}${ORDER_QUERY_PATH}`)
    this.credentials = { appId, serialNo: certSerialNo, privateKey: merchantPrivateKey }
    this.signing = signing ?? DEFAULT_REQUEST_SIGNING
    this.notFoundAnswers = notFoundAnswers ?? DEFAULT_NOT_FOUND_ANSWERS
  }

  pausedForMs (now?: number): number {
    return this.caller.pausedForMs(now)
  }

  state (): UpstreamClientState {
    return this.caller.state()
  }

  /** The order MidasBuy has under this payment_order_id, or `found: false` on a not-found answer. */
  async fetchOrder (reference: string, options: CallOptions = {}): Promise<FetchOrderResult<MidasBuyOrder>> {
    const body = JSON.stringify({ id: reference })
    const answer = await this.caller.call('order_query', () => {
      // Signed when the request goes, so a call that queued behind a pause is not sent with a stale timestamp.
      const signed = signMidasBuyRequest(
        { method: 'POST', url: this.orderQueryUrl, body }, this.credentials, this.signing, { timestamp: Math.floor(this.clock.now() / 1000) }
      )
      return {
        method: 'POST',
        path: ORDER_QUERY_PATH,
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: signed.headers.authorization },
        body
      }
    }, {
      ...options,
      countsAsFailure: (status) => status >= 500 || refusedCredentials(status)
    })
    if (answer.status === 200) return { found: true, order: this.validOrder(answer, reference) }

    const error = errorBodyOf(answer.body)
    // A 404 without MidasBuy's error body is a wrong base URL or a proxy, not "no such order".
    if (error !== null && this.notFoundAnswers.some((known) => known.status === answer.status && known.name === error.name)) {
      return { found: false }
    }
    const call = midasbuyCall('order_query')
    const code = error === null ? null : { code: error.name, message: error.message }
    if (answer.status === 429) throw new UpstreamRateLimitedError(call, error, answer.retryAfterMs ?? this.caller.defaultRetryAfterMs, true, code)
    if (refusedCredentials(answer.status)) {
      throw new UpstreamUnauthorizedError(call, answer.status, error, {
        code,
        message: `MidasBuy refused the mirror's request signature or app id (${answer.status}${code === null ? '' : ` ${code.code}`}${error?.debug_id === undefined ? '' : `, debug_id ${error.debug_id}`}): ` +
          'check MIDASBUY_APP_ID, MIDASBUY_MERCHANT_PRIVATE_KEY, MIDASBUY_CERT_SERIAL_NO and the MIDASBUY_SIGNATURE_* settings'
      })
    }
    throw new UpstreamHttpError(call, answer.status, error, { code })
  }

  async close (): Promise<void> {
    await this.caller.close()
  }

  private validOrder (answer: HttpAnswer, reference: string): MidasBuyOrder {
    const call = midasbuyCall('order_query')
    // What PostgreSQL cannot store (a NUL, an unpaired surrogate, absurd nesting) is refused like
    // any other unusable answer, before it reaches a merge that would fail on it.
    const unstorable = findUnstorableContent(answer.body)
    if (unstorable !== null) {
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, `${unstorable.path}: ${unstorable.problem}`)
    }
    const parsed = midasbuyOrderSchema.safeParse(answer.body)
    if (!parsed.success) {
      const problem = answer.body === null ? 'not JSON' : describeIssues(parsed.error.issues)
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, problem)
    }
    // Storing another order's data under this payment_order_id would corrupt the mirror.
    if (parsed.data.payment_order_id !== reference) {
      throw new UpstreamInvalidResponseError(call, answer.status, answer.rawBody, `payment_order_id ${JSON.stringify(parsed.data.payment_order_id)} does not match the requested one`)
    }
    return parsed.data
  }
}

/**
 * The MidasBuy client for this configuration, or null unless both MIDASBUY_APP_ID and
 * MIDASBUY_MERCHANT_PRIVATE_KEY are set (config.ts refuses one without the other, and both
 * without MIDASBUY_CERT_SERIAL_NO).
 */
export function createMidasBuyClient (
  config: Config['midasbuy'],
  deps: { log: MidasBuyClientOptions['log'], metrics?: UpstreamMetrics }
): MidasBuyClient | null {
  if (config.appId === undefined || config.merchantPrivateKey === undefined || config.certSerialNo === undefined) return null
  return new MidasBuyClient({
    baseUrl: config.baseUrl,
    appId: config.appId,
    certSerialNo: config.certSerialNo,
    merchantPrivateKey: createPrivateKey(config.merchantPrivateKey),
    maxRequestsPerSecond: config.maxRequestsPerSecond,
    maxConcurrency: config.maxConcurrency,
    timeoutMs: config.timeoutMs,
    signing: config.signing,
    notFoundAnswers: config.notFoundAnswers,
    log: deps.log,
    metrics: deps.metrics
  })
}
