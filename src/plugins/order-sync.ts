import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OrderSync } from '../services/order-sync.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one path every snapshot takes into the database: webhooks, polls, creates and read-throughs. */
    orderSync: OrderSync
  }
}

/**
 * One OrderSync for the whole app, so deliveries from every source share its batches. Each batch
 * is measured; a failed one is logged (its deliveries were then retried one by one, or, with the
 * database unreachable, all answered unavailable).
 */
export const orderSyncPlugin = fp(async function orderSyncPlugin (app: FastifyInstance) {
  const { metrics } = app
  const log = app.log.child({ component: 'merge' })
  app.decorate('orderSync', new OrderSync(app.db, app.config.reconcile.staleAfterMs, {
    batching: app.config.mergeBatching,
    onBatch: ({ size, seconds, error }) => {
      metrics.mergeBatchSize.observe(size)
      metrics.mergeCommitSeconds.observe({ outcome: error === undefined ? 'committed' : 'failed' }, seconds)
      if (error !== undefined) log.warn({ err: error, size }, size > 1 ? 'merge batch failed; its deliveries are retried one by one' : 'merge failed')
    }
  }))
}, { name: 'order-sync', dependencies: ['database'] })
