import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import { inTransaction } from '../db/transaction.js'
import type { StoredOrder } from '../domain/stored-order.js'
import { AppError, NotFoundError } from '../errors.js'
import { gamesoCall, type CreateOrderResult, type GameSoClient } from '../providers/gameso/gameso-client.js'
import { DEFAULT_ITEM_QUANTITY, type GameSoCreateOrder } from '../providers/gameso/gameso-create-schemas.js'
import { gamesoOrderToSnapshot } from '../providers/gameso/gameso-mapping.js'
import type { GameSoOrder } from '../providers/gameso/gameso-schemas.js'
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

const PROVIDER = 'gameso'

/** No GAMESO_API_KEY: the mirror cannot forward, fetch or follow GameSO orders. */
export class GameSoNotConfiguredError extends AppError {
  constructor () {
    super(503, 'GAMESO_NOT_CONFIGURED', 'GameSO is not configured on this mirror (no GameSO API key), so it cannot reach GameSO')
  }
}

export class DuplicateReferenceError extends AppError {
  constructor (reference: string) {
    super(409, 'DUPLICATE_REFERENCE', `reference_id ${reference} is already used by an existing order`)
  }
}

/** GameSO could not give an answer the mirror can pass on: 502, 503 or 504 in GameSO's error shape. */
export class UpstreamFailureError extends AppError {
  constructor (statusCode: 502 | 503 | 504, code: string, message: string, readonly retryAfterSeconds: number | null = null) {
    super(statusCode, code, message)
    this.name = 'UpstreamFailureError'
  }
}

/** GameSO's answer to a create, to be sent to the merchant exactly as it came. */
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
  order: StoredOrder
}

export type OrderGateway = Pick<GameSoClient, 'fetchOrder' | 'createOrder'>

export interface OrderCommandsOptions {
  db: Database
  sync: Pick<OrderSync, 'applySnapshot'>
  /** Null when GameSO is not configured. */
  gameso: OrderGateway | null
  /**
   * When the reconciler first polls an order created through the mirror. At least the GameSO
   * timeout, so it does not ask GameSO about an order whose create is still on its way there.
   */
  createFirstPollDelayMs: number
}

function retryAfterSeconds (ms: number | null): number | null {
  return ms === null ? null : Math.max(1, Math.ceil(ms / 1000))
}

/**
 * What a failed GameSO call means to the merchant, in GameSO's own terms: it cannot tell whether
 * the order exists, so never a 404; 504 when GameSO was too slow, 503 when the mirror is holding
 * back on GameSO's request, 502 for everything else that went wrong on the way.
 */
export function upstreamFailure (error: unknown): unknown {
  if (error instanceof UpstreamTimeoutError) {
    return new UpstreamFailureError(504, 'UPSTREAM_TIMEOUT', error.sent
      ? 'GameSO did not answer in time'
      : 'GameSO is busy: the request could not be sent in time')
  }
  if (error instanceof UpstreamRateLimitedError) {
    const seconds = retryAfterSeconds(error.retryAfterMs)
    return new UpstreamFailureError(503, 'UPSTREAM_RATE_LIMITED', `GameSO asked the mirror to slow down; retry in ${seconds ?? 1} s`, seconds)
  }
  if (error instanceof UpstreamHttpError) {
    if (error.status === 401 || error.status === 403) {
      return new UpstreamFailureError(502, 'UPSTREAM_UNAUTHORIZED', 'GameSO refused the mirror\'s own API key')
    }
    return new UpstreamFailureError(502, 'UPSTREAM_ERROR', `GameSO answered HTTP ${error.status}`)
  }
  if (error instanceof UpstreamInvalidResponseError) {
    return new UpstreamFailureError(502, 'UPSTREAM_INVALID_RESPONSE', 'GameSO answered with an order the mirror cannot read')
  }
  if (error instanceof UpstreamUnavailableError) {
    return new UpstreamFailureError(502, 'UPSTREAM_UNAVAILABLE', 'GameSO cannot be reached')
  }
  return error
}

/** Whether GameSO, answering a create this way, certainly did not create an order. */
function refusedCreate (answer: CreateOrderResult): boolean {
  return answer.status >= 400 && answer.status < 500 && answer.status !== 409
}

/**
 * The merchant's commands that reach GameSO through the mirror: create (record, forward, apply),
 * read-through on a local miss, track, and force sync. Every upstream snapshot goes through
 * OrderSync, the same merge and transaction as webhooks and polls.
 */
export class OrderCommands {
  constructor (private readonly options: OrderCommandsOptions) {}

  get configured (): boolean {
    return this.options.gameso !== null
  }

  /**
   * `POST /v1/orders`. The order is recorded (pending, followed by the reconciler) before GameSO
   * hears of it, so a create whose answer is lost is still resolved. A reference GameSO has
   * already reported to the mirror is answered 409 here, as GameSO would; one the mirror holds
   * only as a placeholder (an earlier create that timed out, a track) is forwarded, because only
   * GameSO knows whether that earlier attempt reached it.
   */
  async create (body: GameSoCreateOrder, log: FastifyBaseLogger): Promise<RelayedAnswer> {
    const gameso = this.requireGameSo()
    const reference = body.reference_id
    const registered = await this.register({
      provider: PROVIDER,
      reference,
      source: 'create',
      userId: body.user_id,
      serverId: body.server_id ?? null,
      characterId: body.character_id ?? null,
      items: body.items.map((item) => ({ sku: item.sku, quantity: item.quantity ?? DEFAULT_ITEM_QUANTITY })),
      firstPollDelayMs: this.options.createFirstPollDelayMs
    })
    if (registered.confirmed) throw new DuplicateReferenceError(reference)

    let answer: CreateOrderResult
    try {
      answer = await gameso.createOrder(body)
    } catch (error) {
      await this.settleFailedCreate(registered, error, log)
      throw upstreamFailure(error)
    }

    await this.recordAnswer(registered, answer, log)
    if (answer.status === 401 || answer.status === 403) {
      log.error({ referenceId: reference, status: answer.status }, 'GameSO refused the mirror\'s API key')
      throw upstreamFailure(new UpstreamHttpError(gamesoCall('create_order'), answer.status, answer.error, { code: answer.error }))
    }
    log.info({ referenceId: reference, status: answer.status, code: answer.error?.code }, 'create forwarded to GameSO')
    return {
      status: answer.status,
      rawBody: answer.rawBody,
      contentType: answer.contentType,
      retryAfterSeconds: retryAfterSeconds(answer.retryAfterMs)
    }
  }

  /**
   * The local-miss path of `GET /v1/orders/{reference_id}`: asks GameSO once and stores what it
   * says. Null when GameSO has no such order or is not configured (the caller answers 404).
   * Nothing is stored for a reference GameSO does not know, so made-up references leave no trace.
   */
  async readThrough (reference: string): Promise<StoredOrder | null> {
    const gameso = this.options.gameso
    if (gameso === null) return null
    const order = await this.fetch(gameso, reference)
    if (order === null) return null
    await this.options.sync.applySnapshot(gamesoOrderToSnapshot(order), { source: 'poll' })
    return this.stored(reference)
  }

  /** `POST /v1/orders/{reference_id}/sync`: GameSO's current answer, applied and returned as stored. */
  async syncNow (reference: string): Promise<StoredOrder> {
    const gameso = this.requireGameSo()
    const order = await this.fetch(gameso, reference)
    if (order === null) throw new NotFoundError(`GameSO has no order with reference_id ${reference}`)
    // The upstream's own answer, fetched on purpose: it settles a tie the merge could not.
    await this.options.sync.applySnapshot(gamesoOrderToSnapshot(order), { source: 'manual', authoritative: true })
    return this.stored(reference)
  }

  /**
   * `POST /v1/orders/{reference_id}/track`: an order created elsewhere is followed by the
   * reconciler from now on (polled at once), until GameSO reports a final state. Idempotent; an
   * order the reconciler had given up on is followed again.
   */
  async track (reference: string): Promise<TrackResult> {
    this.requireGameSo()
    const registered = await this.register({ provider: PROVIDER, reference, source: 'track', firstPollDelayMs: 0 })
    const outcome: TrackOutcome = registered.outcome === 'created' ? 'started' : registered.outcome === 'resumed' ? 'resumed' : 'unchanged'
    return { outcome, reconcileState: registered.reconcileState, order: await this.stored(reference) }
  }

  private requireGameSo (): OrderGateway {
    if (this.options.gameso === null) throw new GameSoNotConfiguredError()
    return this.options.gameso
  }

  private register (input: PlaceholderInput): Promise<RegisteredOrder> {
    return inTransaction(this.options.db, async (client) => {
      await lockOrderKey(client, input.provider, input.reference)
      return registerOrder(client, input)
    })
  }

  private async fetch (gameso: OrderGateway, reference: string): Promise<GameSoOrder | null> {
    try {
      const result = await gameso.fetchOrder(reference)
      return result.found ? result.order : null
    } catch (error) {
      throw upstreamFailure(error)
    }
  }

  private async stored (reference: string): Promise<StoredOrder> {
    const order = await findOrderByReference(this.options.db.pool, PROVIDER, reference)
    // Only reachable if the order were deleted between the write and this read.
    if (order === null) throw new NotFoundError()
    return order
  }

  /**
   * What GameSO's answer means for the local record. GameSO has spoken, so the merchant gets its
   * answer even if this bookkeeping fails: the placeholder then stays, and the reconciler settles it.
   */
  private async recordAnswer (registered: RegisteredOrder, answer: CreateOrderResult, log: FastifyBaseLogger): Promise<void> {
    try {
      if (answer.order !== null) {
        await this.options.sync.applySnapshot(gamesoOrderToSnapshot(answer.order), { source: 'create' })
      } else if (answer.status === 409) {
        // GameSO has an order under this reference the mirror has not seen: fetch it soon.
        await pollUnconfirmedNow(this.options.db.pool, registered.orderId)
      } else if (refusedCreate(answer) && registered.outcome === 'created') {
        await this.discard(registered, `GameSO answered ${answer.status}`, log)
      }
    } catch (err) {
      log.error({ err, orderId: registered.orderId, status: answer.status }, 'recording GameSO\'s answer to a create failed; the reconciler will resolve the order')
    }
  }

  /**
   * After a create that got no answer: if GameSO may have received it, the placeholder stays and
   * the reconciler resolves it by reference. A request that was never sent cannot have created
   * anything, so a placeholder this request recorded goes.
   */
  private async settleFailedCreate (registered: RegisteredOrder, error: unknown, log: FastifyBaseLogger): Promise<void> {
    const sent = error instanceof UpstreamError ? error.sent : true
    try {
      if (!sent && registered.outcome === 'created') {
        await this.discard(registered, 'the create was never sent to GameSO', log)
        return
      }
      if (error instanceof UpstreamInvalidResponseError) await pollUnconfirmedNow(this.options.db.pool, registered.orderId)
    } catch (err) {
      // The merchant is told about GameSO's failure either way; a placeholder left behind is polled.
      log.error({ err, orderId: registered.orderId }, 'settling the local record of a failed create failed')
    }
    log.warn({ err: error, orderId: registered.orderId }, 'GameSO gave no usable answer to a create; the reconciler will resolve the order')
  }

  private async discard (registered: RegisteredOrder, reason: string, log: FastifyBaseLogger): Promise<void> {
    const discarded = await discardCreatePlaceholder(this.options.db.pool, registered.orderId)
    log.info({ orderId: registered.orderId, reason, discarded }, 'create refused: placeholder discarded')
  }
}
