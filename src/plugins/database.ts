import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from '../db/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/**
 * Exposes the database to the app. The one who created it decides who closes it: a database the
 * app built itself is closed on app close; one handed in (tests) belongs to the caller.
 */
export const databasePlugin = fp(async function databasePlugin (app: FastifyInstance, options: { db: Database, closeOnShutdown: boolean }) {
  app.decorate('db', options.db)
  if (options.closeOnShutdown) {
    app.addHook('onClose', async () => { await options.db.close() })
  }
}, { name: 'database' })
