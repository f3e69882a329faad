import type { FastifyInstance } from 'fastify'
import { POLLED_PROVIDER } from '../reconciler/reconciler.js'

/**
 * Gauges that describe the stored data are read from the database at scrape time rather than
 * tracked in memory: several instances share one database and must all report the same truth.
 */
async function sampleDatabaseGauges (app: FastifyInstance) {
  const { metrics } = app
  const [byStatus, backlog, unresolved] = await Promise.all([
    app.db.pool.query<{ provider: string, status: string, count: string }>(
      'SELECT provider, status, count(*) AS count FROM orders GROUP BY provider, status'
    ),
    // Only the provider the reconciler polls: MidasBuy orders change by notification alone, and
    // counting them would show a backlog nothing is ever going to drain.
    app.db.pool.query<{ due: string, waiting: string, lag_seconds: number | null }>(`
      SELECT count(*) FILTER (WHERE next_poll_at <= now()) AS due,
             count(*) FILTER (WHERE next_poll_at > now()) AS waiting,
             extract(epoch FROM now() - min(next_poll_at) FILTER (WHERE next_poll_at <= now()))::float8 AS lag_seconds
        FROM orders WHERE reconcile_state = 'active' AND provider = $1`, [POLLED_PROVIDER]),
    app.db.pool.query<{ reconcile_state: string, count: string }>(
      "SELECT reconcile_state, count(*) AS count FROM orders WHERE reconcile_state IN ('abandoned', 'not_found_upstream') GROUP BY reconcile_state"
    )
  ])
  metrics.ordersByStatus.reset()
  for (const row of byStatus.rows) metrics.ordersByStatus.set({ provider: row.provider, status: row.status }, Number(row.count))
  const backlogRow = backlog.rows[0]
  metrics.reconcileBacklog.set({ state: 'due' }, Number(backlogRow?.due ?? 0))
  metrics.reconcileBacklog.set({ state: 'waiting' }, Number(backlogRow?.waiting ?? 0))
  metrics.reconcileLagSeconds.set(backlogRow?.lag_seconds ?? 0)
  metrics.ordersAbandoned.reset()
  metrics.ordersAbandoned.set({ reason: 'abandoned' }, 0)
  metrics.ordersAbandoned.set({ reason: 'not_found_upstream' }, 0)
  for (const row of unresolved.rows) metrics.ordersAbandoned.set({ reason: row.reconcile_state }, Number(row.count))
}

export async function metricsRoutes (app: FastifyInstance) {
  app.get('/metrics', {
    // Scraped while the process sheds load too: that is when its numbers matter most.
    config: { shedUnderPressure: false },
    schema: { tags: ['ops'], summary: 'Prometheus metrics', produces: ['text/plain'] }
  }, async (request, reply) => {
    try {
      await sampleDatabaseGauges(app)
    } catch (error) {
      // Process and counter metrics are still worth serving when the database is down.
      request.log.warn({ err: error }, 'database gauges not sampled')
    }
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}
