import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Provider } from '../domain/order.js'
import { providers } from '../providers/index.js'
import { WebhookIngest } from '../services/webhook-ingest.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** One webhook ingestion per provider of the registry, by provider name. */
    webhookIngests: ReadonlyMap<Provider, WebhookIngest>
  }
}

/** Each provider's webhook ingestion, built once from the configuration; the webhook routes only call it. */
export const webhookIngestPlugin = fp(async function webhookIngestPlugin (app: FastifyInstance) {
  const { config, orderSync } = app
  const ingests = new Map<Provider, WebhookIngest>()
  for (const provider of providers) {
    ingests.set(provider.name, new WebhookIngest(orderSync, provider, {
      verifier: provider.webhook.verifierFromConfig(config),
      toleranceSeconds: config.webhooks.toleranceSeconds
    }))
  }
  app.decorate('webhookIngests', ingests)
}, { name: 'webhook-ingest', dependencies: ['order-sync'] })
