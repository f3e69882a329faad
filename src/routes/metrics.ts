import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { outboxStats } from '../repositories/merchant-webhooks-repository.js'
import { countOrdersByStatus } from '../repositories/order-stats-repository.js'
import { followedOrders, unresolvedOrders, type FollowedOrders, type UnresolvedOrders } from '../repositories/reconcile-repository.js'

/**
 * Gauges that describe the stored data are read from the database at scrape time rather than
 * tracked in memory: several instances share one database and must all report the same truth.
 */
async function sampleDatabaseGauges (app: FastifyInstance) {
  const { metrics, upstreams } = app
  // Every provider with an order API, polled here or not: the numbers describe the shared
  // database, so every instance reports the same, and a provider nobody polls shows what it leaves undrained.
  const [byStatus, followed, unresolved, outbox] = await Promise.all([
    countOrdersByStatus(app.db.pool),
    Promise.all(upstreams.withApi.map((provider) => followedOrders(app.db.pool, provider))),
    Promise.all(upstreams.withApi.map((provider) => unresolvedOrders(app.db.pool, provider))),
    outboxStats(app.db.pool)
  ])
  metrics.ordersByStatus.reset()
  for (const row of byStatus) metrics.ordersByStatus.set({ provider: row.provider, status: row.status }, row.count)
  metrics.ordersAbandoned.reset()
  upstreams.withApi.forEach((provider, index) => {
    const backlog = followed[index] as FollowedOrders
    const given = unresolved[index] as UnresolvedOrders
    metrics.reconcileBacklog.set({ provider, state: 'due' }, backlog.due)
    metrics.reconcileBacklog.set({ provider, state: 'waiting' }, backlog.waiting)
    metrics.reconcileLagSeconds.set({ provider }, backlog.overdueSeconds)
    metrics.reconcileOldestUnreconciledAgeSeconds.set({ provider }, backlog.oldestFollowedSeconds ?? 0)
    metrics.ordersAbandoned.set({ provider, reason: 'abandoned' }, given.abandoned)
    metrics.ordersAbandoned.set({ provider, reason: 'not_found_upstream' }, given.notFoundUpstream)
  })
  metrics.outboxBacklog.set(outbox.backlog)
  metrics.outboxOldestAgeSeconds.set(outbox.oldestAgeSeconds)
}

export const metricsRoutes = fp(async function metricsRoutes (app: FastifyInstance) {
  app.get('/metrics', {
    // Scraped while the process sheds load too: that is when its numbers matter most.
    config: { shedUnderPressure: false },
    schema: { tags: ['ops'], summary: 'Prometheus metrics', produces: ['text/plain'] }
  }, async (request, reply) => {
    const [sampled, readiness] = await Promise.allSettled([sampleDatabaseGauges(app), app.readiness()])
    if (sampled.status === 'rejected') {
      // Process and counter metrics are still worth serving when the database is down.
      request.log.warn({ err: sampled.reason }, 'database gauges not sampled')
    }
    // Alerting sees readiness here, from the same checks /health/ready runs (which never throw).
    app.metrics.ready.reset()
    if (readiness.status === 'fulfilled') {
      for (const [check, report] of Object.entries(readiness.value.checks)) app.metrics.ready.set({ check }, report.ready ? 1 : 0)
    }
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}, { name: 'metrics-routes', dependencies: ['database', 'readiness', 'upstreams'], encapsulate: true })
