import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { withStatementTimeout } from '../db/database.js'
import type { Queryable } from '../db/queryable.js'
import type { Provider } from '../domain/order.js'
import { Reconciler, leaseDurationMs } from '../reconciler/reconciler.js'
import { followedOrders, unresolvedOrders } from '../repositories/reconcile-repository.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when this instance polls no provider (RECONCILE_ENABLED=false, or no upstream credentials). */
    reconciler: Reconciler | null
  }
}

/** What the reconciler has left to do for one provider, rounded for people. */
async function providerBacklog (client: Queryable, provider: Provider) {
  const [followed, unresolved] = await Promise.all([followedOrders(client, provider), unresolvedOrders(client, provider)])
  return {
    due: followed.due,
    waiting: followed.waiting,
    overdueSeconds: Math.max(0, Math.round(followed.overdueSeconds * 10) / 10),
    oldestUnreconciledAgeSeconds: followed.oldestFollowedSeconds === null ? null : Math.round(followed.oldestFollowedSeconds),
    unresolved
  }
}

type Backlog = Awaited<ReturnType<typeof providerBacklog>>

/** The providers' backlogs together: counts add up, ages are the worst of them. */
function totalBacklog (backlogs: readonly Backlog[]): Backlog {
  const worst = (values: Array<number | null>) => values.reduce<number | null>((max, value) => value === null ? max : Math.max(max ?? value, value), null)
  return {
    due: backlogs.reduce((sum, backlog) => sum + backlog.due, 0),
    waiting: backlogs.reduce((sum, backlog) => sum + backlog.waiting, 0),
    overdueSeconds: worst(backlogs.map((backlog) => backlog.overdueSeconds)) ?? 0,
    oldestUnreconciledAgeSeconds: worst(backlogs.map((backlog) => backlog.oldestUnreconciledAgeSeconds)),
    unresolved: {
      abandoned: backlogs.reduce((sum, backlog) => sum + backlog.unresolved.abandoned, 0),
      notFoundUpstream: backlogs.reduce((sum, backlog) => sum + backlog.unresolved.notFoundUpstream, 0)
    }
  }
}

/** The backlog query shares the pool with requests; PostgreSQL cancels it after this long. */
const BACKLOG_TIMEOUT_MS = 2000
/** Overdue polls shorter than this are ordinary scheduling slack, not lag. */
const LAG_FLOOR_MS = 60_000

/**
 * Runs the reconciler in this instance for every provider whose credentials are set: started
 * once the app is ready, stopped on close before the clients and the database go. Its readiness
 * entry reports running / disabled / lagging and the backlog, in total and per provider (with
 * why a provider is not polled), but never makes the instance unready: a failing upstream must
 * not take the mirror's reads and webhooks out of a load balancer.
 */
export const reconcilerPlugin = fp(async function reconcilerPlugin (app: FastifyInstance) {
  const { reconcile } = app.config
  const { upstreams } = app
  const providerReason = (provider: Provider) => !reconcile.enabled ? 'RECONCILE_ENABLED is false' : upstreams.disabledReason(provider)
  const polled = reconcile.enabled ? upstreams.connected : []
  const disabledReason = !reconcile.enabled
    ? 'RECONCILE_ENABLED is false'
    : polled.length === 0 ? upstreams.withApi.map((provider) => upstreams.disabledReason(provider)).join('; ') : null

  const reconciler = polled.length === 0
    ? null
    : new Reconciler({ ...reconcile, instanceId: app.config.instanceId }, {
      db: app.db,
      upstreams: polled.map((connection) => ({
        connection,
        leaseMs: leaseDurationMs({
          batchSize: reconcile.batchSize,
          maxRequestsPerSecond: connection.maxRequestsPerSecond,
          upstreamTimeoutMs: connection.timeoutMs
        })
      })),
      sync: app.orderSync,
      metrics: app.metrics,
      log: app.log.child({ component: 'reconciler' })
    })
  app.decorate('reconciler', reconciler)
  if (reconciler) {
    app.addHook('onReady', async () => {
      reconciler.start()
      app.log.info({ providers: reconciler.providers, intervalMs: reconcile.intervalMs, batchSize: reconcile.batchSize, instanceId: app.config.instanceId }, 'reconciler started')
    })
    app.addHook('onClose', async () => { await reconciler.stop() })
  }
  if (reconciler === null) {
    app.log.info({ reason: disabledReason }, 'reconciler disabled')
  } else {
    for (const provider of upstreams.withApi) {
      const reason = providerReason(provider)
      if (reason !== null) app.log.info({ provider, reason }, 'reconciler does not poll this provider')
    }
  }

  const lagThresholdSeconds = Math.max(LAG_FLOOR_MS, 5 * reconcile.intervalMs) / 1000
  const state = (disabled: boolean, lagging: boolean) => disabled ? 'disabled' : lagging ? 'lagging' : 'running'
  app.readinessChecks.set('reconciler', async () => {
    const report = {
      ready: true,
      reason: disabledReason,
      lastClaimAt: reconciler?.lastClaim?.toISOString() ?? null,
      lastSuccessfulPollAt: Object.fromEntries(upstreams.withApi.map((provider) => [provider, reconciler?.lastSuccessfulPoll.get(provider)?.toISOString() ?? null])),
      upstream: polled.length === 1 ? polled[0]?.client.state() ?? null : null
    }
    try {
      const backlogs = await withStatementTimeout(app.db.pool, BACKLOG_TIMEOUT_MS,
        (client) => Promise.all(upstreams.withApi.map((provider) => providerBacklog(client, provider))))
      const providers = Object.fromEntries(upstreams.withApi.map((provider, index) => {
        const backlog = backlogs[index] as Backlog
        const reason = providerReason(provider)
        return [provider, {
          state: state(reason !== null, backlog.overdueSeconds > lagThresholdSeconds),
          reason,
          lastClaimAt: reconciler?.lastClaimOf(provider)?.toISOString() ?? null,
          upstream: upstreams.get(provider)?.client.state() ?? null,
          ...backlog
        }]
      }))
      // Running, the total is what this instance drains; disabled, it is everything left undrained.
      const counted = reconciler === null ? backlogs : backlogs.filter((_backlog, index) => providerReason(upstreams.withApi[index] as Provider) === null)
      const total = totalBacklog(counted)
      const lagging = Object.values(providers).some((entry) => entry.state === 'lagging')
      return { ...report, state: state(disabledReason !== null, lagging), ...total, providers }
    } catch (error) {
      return { ...report, state: state(disabledReason !== null, false), error: (error as Error).message }
    }
  })
}, { name: 'reconciler', dependencies: ['database', 'upstreams', 'order-sync', 'readiness'] })
