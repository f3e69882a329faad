/**
 * What every upstream order client offers, so the reconciler, read-through and sync can work with
 * any provider's client. Provider-specific calls (a create, where the upstream has one) live on
 * the provider's own client beside these.
 */

/**
 * `background` calls (the reconciler) queue behind interactive ones and never take the last free
 * request slot, so a merchant's request is not stuck behind a polling batch.
 */
export type CallPriority = 'interactive' | 'background'

export interface CallOptions {
  /** Interactive unless said otherwise. */
  priority?: CallPriority
  /**
   * Latest moment (epoch ms) the request may be sent; later it rejects with an unsent
   * UpstreamTimeoutError. Interactive calls default to now + timeout and their whole call,
   * queueing included, stays within the timeout.
   */
  sendBy?: number
  /** Aborting rejects a queued call at once (unsent) and cancels one in flight. */
  signal?: AbortSignal
  /** The id of the work the call is made for (a request's, a reconcile batch's), sent upstream as X-Request-Id. */
  requestId?: string
}

/** The upstream's order under a reference, or `found: false` when the upstream says it has none. */
export type FetchOrderResult<Order> = { found: true, order: Order } | { found: false }

export type PauseReason = 'rate_limited' | 'failing'

/** Counters for health output. */
export interface UpstreamClientState {
  pausedForMs: number
  pauseReason: PauseReason | null
  consecutiveFailures: number
  /** Headroom kept below the configured rate, as a share (0.01 = 1 %). */
  rateHeadroom: number
  queued: number
}

export interface UpstreamOrderClient<Order> {
  fetchOrder (reference: string, options?: CallOptions): Promise<FetchOrderResult<Order>>
  /** Milliseconds until the client sends again after a 429 or a run of failures; 0 when it sends now. */
  pausedForMs (now?: number): number
  state (): UpstreamClientState
  /** Rejects queued calls and closes connections; calls in flight finish or fail. */
  close (): Promise<void>
}
