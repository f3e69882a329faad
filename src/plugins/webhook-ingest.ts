import { createPublicKey } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { MidasBuyWebhookIngest } from '../services/midasbuy-webhook-ingest.js'
import { GameSoWebhookIngest } from '../services/webhook-ingest.js'

declare module 'fastify' {
  interface FastifyInstance {
    gamesoWebhookIngest: GameSoWebhookIngest
    midasbuyWebhookIngest: MidasBuyWebhookIngest
  }
}

/** Each provider's webhook ingestion, built once from the configuration; the webhook routes only call it. */
export const webhookIngestPlugin = fp(async function webhookIngestPlugin (app: FastifyInstance) {
  const { config, orderSync } = app
  app.decorate('gamesoWebhookIngest', new GameSoWebhookIngest(orderSync, {
    secrets: config.gameso.webhookSecrets,
    signatureHeader: config.gameso.signatureHeader,
    toleranceSeconds: config.webhooks.toleranceSeconds
  }))
  const pem = config.midasbuy.platformPublicKey
  app.decorate('midasbuyWebhookIngest', new MidasBuyWebhookIngest(orderSync, {
    publicKey: pem === undefined ? null : createPublicKey(pem),
    signatureHeader: config.midasbuy.signatureHeader,
    toleranceSeconds: config.webhooks.toleranceSeconds
  }))
}, { name: 'webhook-ingest', dependencies: ['order-sync'] })
