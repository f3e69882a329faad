import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import { inTransaction } from '../db/transaction.js'
import type { OrderSnapshot, Provider } from '../domain/order.js'
import type { StoredOrder } from '../domain/stored-order.js'
import { AppError, NotFoundError } from '../errors.js'
import type { CreateAnswer, OrderCreator, UpstreamConnection, UpstreamLookup } from '../providers/provider-module.js'
import {
  discardCreatePlaceholder, pollUnconfirmedNow, registerOrder, type PlaceholderInput, type RegisteredOrder
} from '../repositories/order-commands-repository.js'
import { findOrderByReference } from '../repositories/order-queries.js'
import { lockOrderKey } from '../repositories/orders-repository.js'
import {
  UpstreamError, UpstreamHttpError, UpstreamInvalidResponseError, UpstreamRateLimitedError, UpstreamTimeoutError,
  UpstreamUnavailableError
} from '../upstream/upstream-errors.js'
import type { OrderSync } from './order-sync.js'

/** The provider's credentials are not set: the mirror cannot forward, fetch or follow its orders. */
export class UpstreamNotConfiguredError extends AppError {
  constructor (provider: Provider, displayName: string, reason: string) {
    super(503, `${provider.toUpperCase()}_NOT_CONFIGURED`, `${displayName} is not configured on this mirror (${reason}), so it cannot reach ${displayName}`)
  }
}

export class DuplicateReferenceError extends AppError {
  constructor (reference: string) {
    super(409, 'DUPLICATE_REFERENCE', `reference_id ${reference} is already used by an existing order`)
  }
}

/** The upstream could not give an answer the mirror can pass on: 502, 503 or 504 in the mirror's error shape. */
export class UpstreamFailureError extends AppError {
  constructor (statusCode: 502 | 503 | 504, code: string, message: string, readonly retryAfterSeconds: number | null = null, cause?: unknown) {
    super(statusCode, code, message)
    this.name = 'UpstreamFailureError'
    // The upstream's own error (its error name, MidasBuy's debug_id, which settings to check)
    // reaches the log line of the failed request; the merchant's answer carries only `message`.
    if (cause !== undefined) this.cause = cause
  }
}

/** The upstream's answer to a create, to be sent to the merchant exactly as it came. */
export interface RelayedAnswer {
  status: number
  rawBody: string
  contentType: string | null
  retryAfterSeconds: number | null
}

export type TrackOutcome = 'started' | 'resumed' | 'unchanged'

export interface TrackResult {
  outcome: TrackOutcome
  reconcileState: string
  /** As stored: a placeholder until the upstream reports the order. */
  order: StoredOrder
}

export interface OrderCommandsOptions {
  db: Database
  sync: Pick<OrderSync, 'applySnapshot'>
  upstreams: UpstreamLookup
  /** Each provider's status for an order it has not reported yet (ProviderApi.placeholderStatus). */
  placeholderStatus: (provider: Provider) => string
}

function retryAfterSeconds (ms: number | null): number | null {
  return ms === null ? null : Math.max(1, Math.ceil(ms / 1000))
}

/**
 * What a failed upstream call means to the merchant, in the mirror's own terms: it cannot tell
 * whether the order exists, so never a 404; 504 when the upstream was too slow, 503 when the
 * mirror is holding back on the upstream's request, 502 for everything else that went wrong.
 */
export function upstreamFailure (error: unknown, upstream: string): unknown {
  if (error instanceof UpstreamTimeoutError) {
    return new UpstreamFailureError(504, 'UPSTREAM_TIMEOUT', error.sent
      ? `${upstream} did not answer in time`
      : `${upstream} is busy: the request could not be sent in time`, null, error)
  }
  if (error instanceof UpstreamRateLimitedError) {
    const seconds = retryAfterSeconds(error.retryAfterMs)
    return new UpstreamFailureError(503, 'UPSTREAM_RATE_LIMITED', `${upstream} asked the mirror to slow down; retry in ${seconds ?? 1} s`, seconds, error)
  }
  if (error instanceof UpstreamHttpError) {
    if (error.status === 401 || error.status === 403) {
      return new UpstreamFailureError(502, 'UPSTREAM_UNAUTHORIZED', `${upstream} refused the mirror's own credentials`, null, error)
    }
    return new UpstreamFailureError(502, 'UPSTREAM_ERROR', `${upstream} answered HTTP ${error.status}`, null, error)
  }
  if (error instanceof UpstreamInvalidResponseError) {
    return new UpstreamFailureError(502, 'UPSTREAM_INVALID_RESPONSE', `${upstream} answered with an order the mirror cannot read`, null, error)
  }
  if (error instanceof UpstreamUnavailableError) {
    return new UpstreamFailureError(502, 'UPSTREAM_UNAVAILABLE', `${upstream} cannot be reached`, null, error)
  }
  return error
}

/** Whether the upstream, answering a create this way, certainly did not create an order. */
function refusedCreate (answer: CreateAnswer): boolean {
  return answer.status >= 400 && answer.status < 500 && answer.status !== 409
}

/**
 * The merchant's commands that reach an upstream through the mirror, for any provider with an
 * order API: read-through on a local miss, track, force sync, and create where the upstream has
 * one. Every upstream snapshot goes through OrderSync, the same merge and transaction as
 * webhooks and polls.
 */
export class OrderCommands {
  constructor (private readonly options: OrderCommandsOptions) {}

  /** Whether this provider's upstream can be reached from here (its credentials are set). */
  configured (provider: Provider): boolean {
    return this.options.upstreams.get(provider) !== null
  }

  /**
   * A create (`POST /v1/orders` for GameSO). The order is recorded (pending, followed by the
   * reconciler) before the upstream hears of it, so a create whose answer is lost is still
   * resolved. A reference the upstream has already reported to the mirror is answered 409 here,
   * as the upstream would; one the mirror holds only as a placeholder (an earlier create that
   * timed out, a track) is forwarded, because only the upstream knows whether that earlier
   * attempt reached it.
   */
  async create (provider: Provider, body: Readonly<Record<string, unknown>>, log: FastifyBaseLogger, requestId?: string): Promise<RelayedAnswer> {
    const upstream = this.require(provider)
    const creator: OrderCreator | undefined = upstream.creator
    if (creator === undefined) throw new AppError(405, 'METHOD_NOT_ALLOWED', `${upstream.displayName} has no create the mirror can forward`)
    const request = creator.request(body)
    const registered = await this.register({
      provider,
      reference: request.reference,
      source: 'create',
      userId: request.userId,
      serverId: request.serverId,
      characterId: request.characterId,
      items: request.items,
      // The first poll waits out the create's own timeout: no asking about a create still on its way.
      firstPollDelayMs: upstream.timeoutMs
    })
    if (registered.confirmed) throw new DuplicateReferenceError(request.reference)

    let answer: CreateAnswer
    try {
      answer = await creator.create(body, requestId === undefined ? {} : { requestId })
    } catch (error) {
      await this.settleFailedCreate(upstream, registered, error, log)
      throw upstreamFailure(error, upstream.displayName)
    }

    await this.recordAnswer(upstream, registered, answer, log)
    if (answer.status === 401 || answer.status === 403) {
      log.error({ provider, referenceId: request.reference, status: answer.status }, 'upstream refused the mirror\'s credentials')
      throw new UpstreamFailureError(502, 'UPSTREAM_UNAUTHORIZED', `${upstream.displayName} refused the mirror's own credentials`)
    }
    log.info({ provider, referenceId: request.reference, status: answer.status, code: answer.errorCode }, 'create forwarded upstream')
    return {
      status: answer.status,
      rawBody: answer.rawBody,
      contentType: answer.contentType,
      retryAfterSeconds: retryAfterSeconds(answer.retryAfterMs)
    }
  }

  /**
   * The local-miss path of the read routes: asks the upstream once and stores what it says. Null
   * when the upstream has no such order or is not configured (the caller answers 404). Nothing
   * is stored for a reference the upstream does not know, so made-up references leave no trace.
   */
  async readThrough (provider: Provider, reference: string, requestId?: string): Promise<StoredOrder | null> {
    const upstream = this.options.upstreams.get(provider)
    if (upstream === null) return null
    const snapshot = await this.fetch(upstream, reference, requestId)
    if (snapshot === null) return null
    await this.options.sync.applySnapshot(snapshot, { source: 'poll' })
    return this.stored(provider, reference)
  }

  /** Force sync: the upstream's current answer, applied (source `manual`) and returned as stored. */
  async syncNow (provider: Provider, reference: string, requestId?: string): Promise<StoredOrder> {
    const upstream = this.require(provider)
    const snapshot = await this.fetch(upstream, reference, requestId)
    if (snapshot === null) throw new NotFoundError(`${upstream.displayName} has no order with ${upstream.referenceName} ${reference}`)
    // The upstream's own answer, fetched on purpose: it settles a tie the merge could not.
    await this.options.sync.applySnapshot(snapshot, { source: 'manual', authoritative: true })
    return this.stored(provider, reference)
  }

  /**
   * Track: an order created elsewhere is followed by the reconciler from now on (polled at once),
   * until the upstream reports a final state. Idempotent; an order the reconciler had given up
   * on is followed again.
   */
  async track (provider: Provider, reference: string): Promise<TrackResult> {
    this.require(provider)
    const registered = await this.register({ provider, reference, source: 'track', firstPollDelayMs: 0 })
    const outcome: TrackOutcome = registered.outcome === 'created' ? 'started' : registered.outcome === 'resumed' ? 'resumed' : 'unchanged'
    return { outcome, reconcileState: registered.reconcileState, order: await this.stored(provider, reference) }
  }

  private require (provider: Provider): UpstreamConnection {
    const upstream = this.options.upstreams.get(provider)
    if (upstream === null) {
      throw new UpstreamNotConfiguredError(provider, this.options.upstreams.displayName(provider), this.options.upstreams.disabledReason(provider) ?? 'no credentials')
    }
    return upstream
  }

  private register (input: Omit<PlaceholderInput, 'providerStatus'>): Promise<RegisteredOrder> {
    return inTransaction(this.options.db, async (client) => {
      await lockOrderKey(client, input.provider, input.reference)
      return registerOrder(client, { ...input, providerStatus: this.options.placeholderStatus(input.provider) })
    })
  }

  private async fetch (upstream: UpstreamConnection, reference: string, requestId: string | undefined): Promise<OrderSnapshot | null> {
    try {
      const result = await upstream.fetchSnapshot(reference, requestId === undefined ? {} : { requestId })
      return result.found ? result.order : null
    } catch (error) {
      throw upstreamFailure(error, upstream.displayName)
    }
  }

  private async stored (provider: Provider, reference: string): Promise<StoredOrder> {
    const order = await findOrderByReference(this.options.db.pool, provider, reference)
    // Only reachable if the order were deleted between the write and this read.
    if (order === null) throw new NotFoundError()
    return order
  }

  /**
   * What the upstream's answer means for the local record. The upstream has spoken, so the
   * merchant gets its answer even if this bookkeeping fails: the placeholder then stays, and the
   * reconciler settles it.
   */
  private async recordAnswer (upstream: UpstreamConnection, registered: RegisteredOrder, answer: CreateAnswer, log: FastifyBaseLogger): Promise<void> {
    try {
      if (answer.snapshot !== null) {
        await this.options.sync.applySnapshot(answer.snapshot, { source: 'create' })
      } else if (answer.status === 409) {
        // The upstream has an order under this reference the mirror has not seen: fetch it soon.
        await pollUnconfirmedNow(this.options.db.pool, registered.orderId)
      } else if (refusedCreate(answer) && registered.outcome === 'created') {
        await this.discard(registered, `${upstream.displayName} answered ${answer.status}`, log)
      }
    } catch (err) {
      log.error({ err, orderId: registered.orderId, status: answer.status }, 'recording the upstream\'s answer to a create failed; the reconciler will resolve the order')
    }
  }

  /**
   * After a create that got no answer: if the upstream may have received it, the placeholder
   * stays and the reconciler resolves it by reference. A request that was never sent cannot have
   * created anything, so a placeholder this request recorded goes.
   */
  private async settleFailedCreate (upstream: UpstreamConnection, registered: RegisteredOrder, error: unknown, log: FastifyBaseLogger): Promise<void> {
    const sent = error instanceof UpstreamError ? error.sent : true
    try {
      if (!sent && registered.outcome === 'created') {
        await this.discard(registered, `the create was never sent to ${upstream.displayName}`, log)
        return
      }
      if (error instanceof UpstreamInvalidResponseError) await pollUnconfirmedNow(this.options.db.pool, registered.orderId)
    } catch (err) {
      // The merchant is told about the upstream's failure either way; a placeholder left behind is polled.
      log.error({ err, orderId: registered.orderId }, 'settling the local record of a failed create failed')
    }
    log.warn({ err: error, orderId: registered.orderId }, 'the upstream gave no usable answer to a create; the reconciler will resolve the order')
  }

  private async discard (registered: RegisteredOrder, reason: string, log: FastifyBaseLogger): Promise<void> {
    const discarded = await discardCreatePlaceholder(this.options.db.pool, registered.orderId)
    log.info({ orderId: registered.orderId, reason, discarded }, 'create refused: placeholder discarded')
  }
}
