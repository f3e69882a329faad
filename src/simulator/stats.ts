/** Seconds of per-second request history kept: an hour, so a long benchmark run stays bounded. */
const HISTORY_SECONDS = 3600

export interface WebhookCounters {
  /** Status-change events that matched the configured events (one per event, not per URL). */
  generated: number
  /** HTTP attempts made, retries and duplicate copies included. */
  attempted: number
  /** Attempts answered 2xx. */
  delivered: number
  /** Deliveries the drop fault swallowed. */
  dropped: number
  /** Extra copies the duplicate fault added. */
  duplicated: number
  /** Retries scheduled after a non-2xx answer, a network error or a timeout. */
  retried: number
  /** Deliveries given up after max retries. */
  failed: number
}

function zeroWebhookCounters (): WebhookCounters {
  return { generated: 0, attempted: 0, delivered: 0, dropped: 0, duplicated: 0, retried: 0, failed: 0 }
}

function increment<K> (map: Map<K, number>, key: K, by = 1): number {
  const value = (map.get(key) ?? 0) + by
  map.set(key, value)
  return value
}

/**
 * Counters tests and benchmarks read through GET /_control/stats. Every update is O(1); only
 * rendering walks the maps.
 */
export class SimulatorStats {
  private sinceMs = Date.now()
  private total = 0
  private readonly byRoute = new Map<string, Map<number, number>>()
  private readonly perSecond = new Map<number, number>()
  private readonly getsByReference = new Map<string, number>()
  private firstRequestMs: number | undefined
  private lastRequestMs: number | undefined
  private maxInFlight = 0
  private maxGetsPerReference = 0
  private maxGetsReference: string | null = null
  private readonly eventsByName = new Map<string, number>()
  readonly webhooks: WebhookCounters = zeroWebhookCounters()

  // Gauges of what is in flight now: a reset must not touch them, or requests that end after it
  // would drive them negative.
  private inFlight = 0
  private readonly inFlightGetsByReference = new Map<string, number>()

  /**
   * Records an API request arriving. `getReference` is set for a request that reads one order by
   * its reference in the URL (a GET by reference), whose concurrency per reference is tracked.
   * Returns the function to call when the request ends.
   */
  requestStarted (getReference: string | undefined, nowMs = Date.now()): () => void {
    this.total++
    this.firstRequestMs ??= nowMs
    this.lastRequestMs = nowMs
    const second = Math.floor(nowMs / 1000)
    if (increment(this.perSecond, second) === 1 && this.perSecond.size > HISTORY_SECONDS) {
      this.perSecond.delete(this.perSecond.keys().next().value as number)
    }
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    const lookupEnded = getReference === undefined ? undefined : this.lookupStarted(getReference)
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.inFlight--
      lookupEnded?.()
    }
  }

  /**
   * Records a read of one order by reference, for an API that learns the reference only from the
   * body (an upstream queried by POST). Returns the function to call when the request ends.
   */
  lookupStarted (reference: string): () => void {
    increment(this.getsByReference, reference)
    const concurrent = increment(this.inFlightGetsByReference, reference)
    if (concurrent > this.maxGetsPerReference) {
      this.maxGetsPerReference = concurrent
      this.maxGetsReference = reference
    }
    let ended = false
    return () => {
      if (ended) return
      ended = true
      if (increment(this.inFlightGetsByReference, reference, -1) === 0) this.inFlightGetsByReference.delete(reference)
    }
  }

  /** `route` is "METHOD /pattern", e.g. "GET /v1/orders/:reference_id". */
  responseSent (route: string, statusCode: number): void {
    let statuses = this.byRoute.get(route)
    if (!statuses) {
      statuses = new Map()
      this.byRoute.set(route, statuses)
    }
    increment(statuses, statusCode)
  }

  webhookGenerated (event: string): void {
    this.webhooks.generated++
    increment(this.eventsByName, event)
  }

  reset (): void {
    this.sinceMs = Date.now()
    this.total = 0
    this.byRoute.clear()
    this.perSecond.clear()
    this.getsByReference.clear()
    this.firstRequestMs = undefined
    this.lastRequestMs = undefined
    this.maxInFlight = this.inFlight
    this.maxGetsPerReference = 0
    this.maxGetsReference = null
    this.eventsByName.clear()
    Object.assign(this.webhooks, zeroWebhookCounters())
  }

  toJSON<Status extends string> (extra: { ordersByStatus: Readonly<Record<Status, number>>, ordersTotal: number, webhooksPending: number }) {
    const byStatus: Record<string, number> = {}
    const byRoute: Record<string, Record<string, number>> = {}
    for (const [route, statuses] of this.byRoute) {
      byRoute[route] = Object.fromEntries(statuses)
      for (const [status, count] of statuses) byStatus[status] = (byStatus[status] ?? 0) + count
    }
    const perSecond = [...this.perSecond].map(([second, count]) => ({ second, count }))
    const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString()
    return {
      since: new Date(this.sinceMs).toISOString(),
      api: {
        total: this.total,
        byRoute,
        byStatus,
        inFlight: this.inFlight,
        maxInFlight: this.maxInFlight,
        getsByReference: Object.fromEntries(this.getsByReference),
        maxConcurrentGetsPerReference: this.maxGetsPerReference,
        maxConcurrentGetsReference: this.maxGetsReference,
        perSecond,
        peakPerSecond: perSecond.reduce((peak, bucket) => Math.max(peak, bucket.count), 0),
        firstRequestAt: iso(this.firstRequestMs),
        lastRequestAt: iso(this.lastRequestMs)
      },
      webhooks: {
        ...this.webhooks,
        pending: extra.webhooksPending,
        byEvent: Object.fromEntries(this.eventsByName)
      },
      orders: { total: extra.ordersTotal, byStatus: extra.ordersByStatus }
    }
  }
}

/** The stats document of an upstream whose orders take the statuses `Status`. */
export type StatsView<Status extends string = string> = ReturnType<typeof SimulatorStats.prototype.toJSON<Status>>
