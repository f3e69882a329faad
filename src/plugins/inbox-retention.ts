import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { InboxRetention } from '../services/inbox-retention.js'

/** Inbox retention runs once an hour: the cutoff is in days, so finer steps would only add load. */
const RETENTION_INTERVAL_MS = 3_600_000
const RETENTION_BATCH_SIZE = 1000

declare module 'fastify' {
  interface FastifyInstance {
    inboxRetention: InboxRetention
  }
}

/** Starts the inbox retention job when the app is ready and stops it before the database closes. */
export const inboxRetentionPlugin = fp(async function inboxRetentionPlugin (app: FastifyInstance) {
  const retention = new InboxRetention(app.db, {
    retentionDays: app.config.webhooks.inboxRetentionDays,
    intervalMs: RETENTION_INTERVAL_MS,
    batchSize: RETENTION_BATCH_SIZE
  }, app.log)
  app.decorate('inboxRetention', retention)
  app.addHook('onReady', async () => { retention.start() })
  app.addHook('onClose', async () => { await retention.stop() })
}, { name: 'inbox-retention', dependencies: ['database'] })
