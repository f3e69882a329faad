/** Which call failed: the metric label of the upstream, its name for messages, and the operation. */
export interface UpstreamCall {
  /** The provider's id: the `provider` label in metrics and logs. */
  provider: string
  /** The upstream's name as messages and log lines spell it. */
  upstream: string
  operation: string
}

/** The machine-readable part of an upstream's error body, whatever the upstream calls the field. */
export interface UpstreamErrorCode {
  code: string
  message?: string | undefined
}

/** Every failure of an upstream call; `sent` tells whether the request may have reached the upstream. */
export class UpstreamError extends Error {
  readonly provider: string
  readonly operation: string

  constructor (message: string, call: UpstreamCall, readonly sent: boolean, options?: ErrorOptions) {
    super(message, options)
    this.name = 'UpstreamError'
    this.provider = call.provider
    this.operation = call.operation
  }
}

/**
 * No answer in time. With `sent: false` the request never left the queue (the client was paused
 * or busy past the caller's deadline), so the upstream cannot have acted on it.
 */
export class UpstreamTimeoutError extends UpstreamError {
  constructor (call: UpstreamCall, sent: boolean, readonly afterMs: number) {
    super(sent ? `${call.upstream} did not answer within ${afterMs} ms` : `${call.upstream} request still queued after ${afterMs} ms, not sent`, call, sent)
    this.name = 'UpstreamTimeoutError'
  }
}

/** The upstream could not be reached (connection refused or reset, DNS), or the client is backing off or closed. */
export class UpstreamUnavailableError extends UpstreamError {
  constructor (message: string, call: UpstreamCall, sent: boolean, options?: ErrorOptions) {
    super(message, call, sent, options)
    this.name = 'UpstreamUnavailableError'
  }
}

/** The upstream answered with an error status; `body` is its parsed error body when it sent one. */
export class UpstreamHttpError<Body = unknown> extends UpstreamError {
  /** The error's code as the upstream names it, null without a recognisable error body. */
  readonly code: string | null

  constructor (
    call: UpstreamCall, readonly status: number, readonly body: Body | null,
    options: { code?: UpstreamErrorCode | null, message?: string, sent?: boolean } = {}
  ) {
    const code = options.code ?? null
    const detail = code === null ? '' : ` ${code.code}${code.message === undefined ? '' : `: ${code.message}`}`
    super(options.message ?? `${call.upstream} answered ${status}${detail}`, call, options.sent ?? true)
    this.name = 'UpstreamHttpError'
    this.code = code?.code ?? null
  }
}

/**
 * The upstream refused the mirror's own credentials (401, 403): a wrong key or request signature,
 * which retrying will not cure.
 */
export class UpstreamUnauthorizedError<Body = unknown> extends UpstreamHttpError<Body> {
  constructor (call: UpstreamCall, status: number, body: Body | null, options: { code?: UpstreamErrorCode | null, message?: string } = {}) {
    super(call, status, body, options)
    this.name = 'UpstreamUnauthorizedError'
  }
}

/**
 * The upstream answered 429 (`sent: true`), or the client is still honouring an earlier 429's
 * Retry-After and did not send this call (`sent: false`).
 */
export class UpstreamRateLimitedError<Body = unknown> extends UpstreamHttpError<Body> {
  constructor (call: UpstreamCall, body: Body | null, readonly retryAfterMs: number, sent = true, code: UpstreamErrorCode | null = null) {
    super(call, 429, body, {
      code,
      sent,
      message: sent
        ? `${call.upstream} rate limited the mirror; retry after ${retryAfterMs} ms`
        : `${call.upstream} calls paused for ${retryAfterMs} ms after a 429`
    })
    this.name = 'UpstreamRateLimitedError'
  }
}

/** The upstream answered 2xx with something that is not the order the mirror asked about. */
export class UpstreamInvalidResponseError extends UpstreamError {
  constructor (call: UpstreamCall, readonly status: number, readonly rawBody: string, readonly problem: string) {
    super(`${call.upstream} answered ${status} with an unusable body: ${problem}`, call, true)
    this.name = 'UpstreamInvalidResponseError'
  }
}
