import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { POLLED_PROVIDER } from '../reconciler/reconciler.js'
import { countOrdersByStatus } from '../repositories/order-stats-repository.js'
import { followedOrders, unresolvedOrders } from '../repositories/reconcile-repository.js'

/**
 * Gauges that describe the stored data are read from the database at scrape time rather than
 * tracked in memory: several instances share one database and must all report the same truth.
 */
async function sampleDatabaseGauges (app: FastifyInstance) {
  const { metrics } = app
  const [byStatus, followed, unresolved] = await Promise.all([
    countOrdersByStatus(app.db.pool),
    // Only the provider the reconciler polls: MidasBuy orders change by notification alone, and
    // counting them would show a backlog nothing is ever going to drain.
    followedOrders(app.db.pool, POLLED_PROVIDER),
    unresolvedOrders(app.db.pool)
  ])
  metrics.ordersByStatus.reset()
  for (const row of byStatus) metrics.ordersByStatus.set({ provider: row.provider, status: row.status }, row.count)
  metrics.reconcileBacklog.set({ state: 'due' }, followed.due)
  metrics.reconcileBacklog.set({ state: 'waiting' }, followed.waiting)
  metrics.reconcileLagSeconds.set(followed.overdueSeconds)
  metrics.reconcileOldestUnreconciledAgeSeconds.set({ provider: POLLED_PROVIDER }, followed.oldestFollowedSeconds ?? 0)
  metrics.ordersAbandoned.reset()
  metrics.ordersAbandoned.set({ reason: 'abandoned' }, unresolved.abandoned)
  metrics.ordersAbandoned.set({ reason: 'not_found_upstream' }, unresolved.notFoundUpstream)
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
}, { name: 'metrics-routes', dependencies: ['database', 'readiness'], encapsulate: true })
