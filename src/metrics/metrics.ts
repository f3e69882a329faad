import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Every answer a webhook route counts: the inbox outcomes, and refusals before anything is stored. */
const WEBHOOK_OUTCOMES = ['applied', 'duplicate', 'stale', 'ignored', 'invalid', 'rejected', 'unavailable'] as const

export interface MetricsOptions {
  /** Providers whose webhook counters exist, at 0, from the start. */
  providers?: readonly string[]
}

/**
 * Every metric the service exports, on a registry of its own per app instance (tests build many
 * apps in one process; the global registry would make them collide).
 */
export function createMetrics (options: MetricsOptions = {}) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const metrics = {
    registry,
    webhooksTotal: new Counter({
      name: 'order_mirror_webhooks_total',
      help: 'Webhook deliveries by provider and outcome (applied, duplicate, stale, ignored, invalid, rejected, unavailable)',
      labelNames: ['provider', 'outcome'] as const,
      registers: [registry]
    }),
    webhookSignatureFailuresTotal: new Counter({
      name: 'order_mirror_webhook_signature_failures_total',
      help: 'Webhook deliveries refused for a missing or wrong signature or timestamp',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry]
    }),
    webhookIngestSeconds: new Histogram({
      name: 'order_mirror_webhook_ingest_seconds',
      help: 'Time from a webhook arriving to its response, by provider',
      labelNames: ['provider'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry]
    }),
    mergeBatchSize: new Histogram({
      name: 'order_mirror_merge_batch_size',
      help: 'Deliveries (webhooks, polls, creates, syncs) merged per transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry]
    }),
    mergeCommitSeconds: new Histogram({
      name: 'order_mirror_merge_commit_seconds',
      help: 'Time from a merge batch leaving the queue to its commit (outcome committed) or its failure (outcome failed), lock waits included',
      labelNames: ['outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry]
    }),
    merchantWebhookDeliveriesTotal: new Counter({
      name: 'order_mirror_merchant_webhook_deliveries_total',
      help: 'Merchant webhook delivery attempts by endpoint id and result (delivered, failed: to be retried, exhausted, gone: 410 set the endpoint inactive)',
      labelNames: ['endpoint', 'result'] as const,
      registers: [registry]
    }),
    merchantWebhookAttemptSeconds: new Histogram({
      name: 'order_mirror_merchant_webhook_attempt_seconds',
      help: 'Time of one merchant webhook delivery attempt, from sending to the answer (or the failure)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry]
    }),
    outboxBacklog: new Gauge({
      name: 'order_mirror_outbox_backlog',
      help: 'Merchant webhook events not yet delivered (waiting, in flight, failed or exhausted)',
      registers: [registry]
    }),
    outboxOldestAgeSeconds: new Gauge({
      name: 'order_mirror_outbox_oldest_age_seconds',
      help: 'Age of the oldest merchant webhook event not yet delivered; 0 when there is none',
      registers: [registry]
    }),
    pollsTotal: new Counter({
      name: 'order_mirror_reconcile_polls_total',
      help: 'Reconciler polls by provider and result (applied, unchanged, stale, not_found, error, rate_limited, abandoned)',
      labelNames: ['provider', 'result'] as const,
      registers: [registry]
    }),
    upstreamRequestsTotal: new Counter({
      name: 'order_mirror_upstream_requests_total',
      help: 'Calls to upstream APIs by provider, operation and HTTP status (or "network", "timeout", "aborted", "invalid" for an oversized answer)',
      labelNames: ['provider', 'operation', 'status'] as const,
      registers: [registry]
    }),
    upstreamRequestSeconds: new Histogram({
      name: 'order_mirror_upstream_request_seconds',
      help: 'Latency of calls to upstream APIs',
      labelNames: ['provider', 'operation'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry]
    }),
    ordersByStatus: new Gauge({
      name: 'order_mirror_orders',
      help: 'Orders in the mirror by provider and status (sampled at scrape)',
      labelNames: ['provider', 'status'] as const,
      registers: [registry]
    }),
    reconcileBacklog: new Gauge({
      name: 'order_mirror_reconcile_backlog',
      help: 'Orders the reconciler follows, by provider and state: due (poll time reached) and waiting (sampled at scrape)',
      labelNames: ['provider', 'state'] as const,
      registers: [registry]
    }),
    reconcileLagSeconds: new Gauge({
      name: 'order_mirror_reconcile_lag_seconds',
      help: 'How long the most overdue followed order of each provider has been waiting for its poll (sampled at scrape)',
      labelNames: ['provider'] as const,
      registers: [registry]
    }),
    reconcileOldestUnreconciledAgeSeconds: new Gauge({
      name: 'order_mirror_reconcile_oldest_unreconciled_age_seconds',
      help: 'Age of the order followed longest without reaching a final state, by provider; 0 when none is followed (sampled at scrape)',
      labelNames: ['provider'] as const,
      registers: [registry]
    }),
    merchantRequestsRefusedTotal: new Counter({
      name: 'order_mirror_merchant_requests_refused_total',
      help: 'Merchant API requests refused before reaching a handler, by reason (unauthorized, rate_limited)',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    requestsShedTotal: new Counter({
      name: 'order_mirror_requests_shed_total',
      help: 'Requests refused with 503 OVERLOADED while the process was under pressure, by reason (eventLoopDelay, heapUsedBytes, rssBytes)',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    rateLimitStoreFallbackTotal: new Counter({
      name: 'order_mirror_rate_limit_store_fallback_total',
      help: 'Merchant requests counted against their rate limit in this instance because the shared Redis store could not answer',
      registers: [registry]
    }),
    rateLimitStoreDegraded: new Gauge({
      name: 'order_mirror_rate_limit_store_degraded',
      help: '1 while the shared Redis rate limit store cannot answer and limits are counted per instance, else 0',
      registers: [registry]
    }),
    ready: new Gauge({
      name: 'order_mirror_ready',
      help: 'Readiness as /health/ready reports it, per check: 1 ready, 0 not (evaluated at scrape)',
      labelNames: ['check'] as const,
      registers: [registry]
    }),
    buildInfo: new Gauge({
      name: 'order_mirror_build_info',
      help: 'Always 1; the labels say which version and commit this process runs',
      labelNames: ['version', 'commit'] as const,
      registers: [registry]
    }),
    loadShedMaxEventLoopDelaySeconds: new Gauge({
      name: 'order_mirror_load_shed_max_event_loop_delay_seconds',
      help: 'Mean event-loop delay past which requests are shed (LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS); 0 when that check is off',
      registers: [registry]
    }),
    loadShedMaxHeapUsedBytes: new Gauge({
      name: 'order_mirror_load_shed_max_heap_used_bytes',
      help: 'V8 heap in use past which requests are shed (LOAD_SHED_MAX_HEAP_USED_BYTES or 90 % of the heap limit); 0 when that check is off',
      registers: [registry]
    }),
    loadShedMaxRssBytes: new Gauge({
      name: 'order_mirror_load_shed_max_rss_bytes',
      help: 'Resident memory past which requests are shed (LOAD_SHED_MAX_RSS_BYTES); 0 when that check is off',
      registers: [registry]
    }),
    ordersAbandoned: new Gauge({
      name: 'order_mirror_orders_unresolved',
      help: 'Orders the reconciler stopped following without a final state, by provider and reason (sampled at scrape)',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry]
    })
  }
  // A counter series born at 1 shows no increase() to Prometheus: without a 0 first, the first
  // invalid or unavailable delivery of a process would never reach an alert.
  for (const provider of options.providers ?? []) {
    for (const outcome of WEBHOOK_OUTCOMES) metrics.webhooksTotal.inc({ provider, outcome }, 0)
  }
  return metrics
}

export type Metrics = ReturnType<typeof createMetrics>
