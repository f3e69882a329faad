import Fastify, { type FastifyPluginAsync } from 'fastify'
import { describe, expect, it } from 'vitest'
import { inboxRetentionPlugin } from '../../src/plugins/inbox-retention.js'
import { merchantWebhooksPlugin } from '../../src/plugins/merchant-webhooks.js'
import { orderCommandsPlugin } from '../../src/plugins/order-commands.js'
import { orderSyncPlugin } from '../../src/plugins/order-sync.js'
import { reconcilerPlugin } from '../../src/plugins/reconciler.js'
import { webhookIngestPlugin } from '../../src/plugins/webhook-ingest.js'
import { gamesoProvider } from '../../src/providers/gameso/index.js'
import { midasbuyProvider } from '../../src/providers/midasbuy/index.js'
import { orderCommandRoutes } from '../../src/providers/gameso/routes/gameso-order-command-routes.js'
import { gamesoOrderRoutes } from '../../src/providers/gameso/routes/gameso-order-routes.js'
import { midasbuyOrderRoutes } from '../../src/providers/midasbuy/routes/midasbuy-order-routes.js'
import { healthRoutes } from '../../src/routes/health.js'
import { merchantWebhookRoutes } from '../../src/routes/merchant-webhooks.js'
import { metricsRoutes } from '../../src/routes/metrics.js'
import { orderChangesRoutes } from '../../src/routes/order-changes.js'
import { orderRoutes } from '../../src/routes/orders.js'
import { webhookRoutes } from '../../src/routes/webhooks.js'

// What buildApp builds is declared, not assumed: a plugin or route registered without what it
// needs must stop the start and name the missing piece, instead of failing at its first request.
const declared: Array<[string, FastifyPluginAsync, string, string]> = [
  ['order-sync', orderSyncPlugin, 'order-sync', 'database'],
  ['webhook-ingest', webhookIngestPlugin, 'webhook-ingest', 'order-sync'],
  ['order-commands', orderCommandsPlugin, 'order-commands', 'database'],
  ['inbox-retention', inboxRetentionPlugin, 'inbox-retention', 'database'],
  ['reconciler', reconcilerPlugin, 'reconciler', 'database'],
  ['GameSO webhook routes', webhookRoutes(gamesoProvider), 'gameso-webhook-routes', 'webhook-ingest'],
  ['MidasBuy webhook routes', webhookRoutes(midasbuyProvider), 'midasbuy-webhook-routes', 'webhook-ingest'],
  ['order routes', orderRoutes, 'order-routes', 'database'],
  ['GameSO order routes', gamesoOrderRoutes, 'gameso-order-routes', 'database'],
  ['order command routes', orderCommandRoutes, 'order-command-routes', 'order-commands'],
  ['MidasBuy order routes', midasbuyOrderRoutes, 'midasbuy-order-routes', 'database'],
  ['health routes', healthRoutes, 'health-routes', 'database'],
  ['metrics routes', metricsRoutes, 'metrics-routes', 'database'],
  ['merchant webhooks', merchantWebhooksPlugin, 'merchant-webhooks', 'database'],
  ['merchant webhook routes', merchantWebhookRoutes, 'merchant-webhook-routes', 'database'],
  ['order changes routes', orderChangesRoutes, 'order-changes-routes', 'database']
]

describe('the composition root', () => {
  it.each(declared)('%s refuses to start without its dependencies, naming the first', async (_label, plugin, name, firstDependency) => {
    const app = Fastify({ logger: false })
    app.register(plugin)
    await expect(app.ready()).rejects.toThrow(`The dependency '${firstDependency}' of plugin '${name}' is not registered`)
    await app.close()
  })
})
