import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { merchantWebhookSignatureHeader } from '../config.js'
import { withStatementTimeout } from '../db/database.js'
import { targetPolicy } from '../domain/outbound-target.js'
import { providers } from '../providers/index.js'
import { outboxStats } from '../repositories/merchant-webhooks-repository.js'
import { signedDeliveryHeaders } from '../services/merchant-webhook-signature.js'
import { MerchantWebhookWorker } from '../services/merchant-webhook-worker.js'
import { systemClock } from '../upstream/clock.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The merchant-webhook delivery worker of this instance; null where MERCHANT_WEBHOOK_DELIVERY_ENABLED is false. */
    merchantWebhookWorker: MerchantWebhookWorker | null
  }
}

/** Readiness reads the outbox with this bound, so a slow database cannot hold /health/ready. */
const OUTBOX_STATS_TIMEOUT_MS = 2000

/**
 * Builds the delivery worker, starts it once the app is ready and stops it on close, and reports
 * the outbox in /health/ready: lag is detail for dashboards, never a readiness failure (the
 * mirror still serves its reads and takes webhooks while a merchant's receiver is down).
 */
export const merchantWebhooksPlugin = fp(async function merchantWebhooksPlugin (app: FastifyInstance) {
  const settings = app.config.merchantWebhooks
  const worker = settings.deliveryEnabled
    ? new MerchantWebhookWorker({
      concurrency: settings.concurrency,
      timeoutMs: settings.timeoutMs,
      pollIntervalMs: settings.pollIntervalMs,
      maxBackoffSeconds: settings.maxBackoffSeconds
    }, {
      db: app.db,
      providers,
      policy: targetPolicy(settings.allowedTargets),
      sign: (input) => signedDeliveryHeaders({ ...input, signatureHeader: merchantWebhookSignatureHeader(app.config) }),
      metrics: app.metrics,
      log: app.log.child({ component: 'merchant-webhooks' }),
      clock: systemClock
    })
    : null
  app.decorate('merchantWebhookWorker', worker)
  if (worker) {
    app.addHook('onReady', async () => {
      worker.start()
      app.log.info({ concurrency: settings.concurrency, timeoutMs: settings.timeoutMs }, 'merchant webhook delivery started')
    })
    app.addHook('onClose', async () => { await worker.stop() })
  }

  app.readinessChecks.set('merchantWebhooks', async () => {
    const delivery = worker ? 'running' : 'disabled'
    try {
      const stats = await withStatementTimeout(app.db.pool, OUTBOX_STATS_TIMEOUT_MS, (client) => outboxStats(client))
      return { ready: true, delivery, backlog: stats.backlog, exhausted: stats.exhausted, oldestUndeliveredAgeSeconds: stats.oldestAgeSeconds }
    } catch (error) {
      return { ready: true, delivery, error: (error as Error).message }
    }
  })
}, { name: 'merchant-webhooks', dependencies: ['database', 'readiness'] })
