import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { withStatementTimeout } from '../db/database.js'
import type { Queryable } from '../db/queryable.js'
import { Reconciler, POLLED_PROVIDER, leaseDurationMs } from '../reconciler/reconciler.js'
import { followedOrders, unresolvedOrders } from '../repositories/reconcile-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when this instance does not reconcile (RECONCILE_ENABLED=false or no GameSO key). */
    reconciler: Reconciler | null
  }
}

/** What the reconciler of the polled provider has left to do, rounded for people. */
async function reconcileBacklog (client: Queryable) {
  const [followed, unresolved] = await Promise.all([
    followedOrders(client, POLLED_PROVIDER),
    unresolvedOrders(client, POLLED_PROVIDER)
  ])
  return {
    due: followed.due,
    waiting: followed.waiting,
    overdueSeconds: Math.max(0, Math.round(followed.overdueSeconds * 10) / 10),
    oldestUnreconciledAgeSeconds: followed.oldestFollowedSeconds === null ? null : Math.round(followed.oldestFollowedSeconds),
    unresolved
  }
}

/** The backlog query shares the pool with requests; PostgreSQL cancels it after this long. */
const BACKLOG_TIMEOUT_MS = 2000
/** Overdue polls shorter than this are ordinary scheduling slack, not lag. */
const LAG_FLOOR_MS = 60_000

/**
 * Runs the reconciler in this instance: started once the app is ready, stopped on close before
 * the database goes. Its readiness entry reports running / disabled / lagging and the backlog,
 * but never makes the instance unready: a failing GameSO must not take the mirror's reads and
 * webhooks out of a load balancer.
 */
export const reconcilerPlugin = fp(async function reconcilerPlugin (app: FastifyInstance) {
  const { reconcile, gameso: gamesoConfig } = app.config
  const disabledReason = !reconcile.enabled
    ? 'RECONCILE_ENABLED is false'
    : app.gameso === null ? 'GAMESO_API_KEY is not set' : null

  const reconciler = app.gameso === null || disabledReason !== null
    ? null
    : new Reconciler({
      ...reconcile,
      instanceId: app.config.instanceId,
      leaseMs: leaseDurationMs({
        batchSize: reconcile.batchSize,
        maxRequestsPerSecond: gamesoConfig.maxRequestsPerSecond,
        upstreamTimeoutMs: gamesoConfig.timeoutMs
      }),
      upstreamTimeoutMs: gamesoConfig.timeoutMs
    }, {
      db: app.db,
      gameso: app.gameso,
      sync: app.orderSync,
      metrics: app.metrics,
      log: app.log.child({ component: 'reconciler' })
    })
  app.decorate('reconciler', reconciler)
  if (reconciler) {
    app.addHook('onReady', async () => {
      reconciler.start()
      app.log.info({ intervalMs: reconcile.intervalMs, batchSize: reconcile.batchSize, instanceId: app.config.instanceId }, 'reconciler started')
    })
    app.addHook('onClose', async () => { await reconciler.stop() })
  } else {
    app.log.info({ reason: disabledReason }, 'reconciler disabled')
  }

  const lagThresholdSeconds = Math.max(LAG_FLOOR_MS, 5 * reconcile.intervalMs) / 1000
  app.readinessChecks.set('reconciler', async () => {
    const report = {
      ready: true,
      reason: disabledReason,
      lastClaimAt: reconciler?.lastClaim?.toISOString() ?? null,
      lastSuccessfulPollAt: { [POLLED_PROVIDER]: reconciler?.lastSuccessfulPoll.get(POLLED_PROVIDER)?.toISOString() ?? null },
      upstream: app.gameso?.state() ?? null
    }
    const state = (lagging: boolean) => disabledReason !== null ? 'disabled' : lagging ? 'lagging' : 'running'
    try {
      const backlog = await withStatementTimeout(app.db.pool, BACKLOG_TIMEOUT_MS, (client) => reconcileBacklog(client))
      return { ...report, state: state(backlog.overdueSeconds > lagThresholdSeconds), ...backlog }
    } catch (error) {
      return { ...report, state: state(false), error: (error as Error).message }
    }
  })
}, { name: 'reconciler', dependencies: ['database', 'gameso', 'order-sync', 'readiness'] })
