import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { withStatementTimeout } from '../db/database.js'
import { pendingMigrations, readMigrations } from '../db/migrator.js'
import { providers } from '../providers/index.js'
import { lastReceivedByProvider } from '../repositories/inbox-repository.js'

/** A probe's queries are cancelled by PostgreSQL after this long, so a slow database cannot pile them up. */
const DATABASE_CHECK_TIMEOUT_MS = 2000

const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.looseObject({ ready: z.boolean() }))
}).describe('Readiness with the detail of every component')

export const healthRoutes = fp(async function healthRoutes (app: FastifyInstance) {
  const migrations = await readMigrations()
  const providerNames = providers.map(({ name }) => name)

  app.readinessChecks.set('database', async () => {
    try {
      const started = performance.now()
      const pending = await withStatementTimeout(app.db.pool, DATABASE_CHECK_TIMEOUT_MS, (client) => pendingMigrations(client, migrations))
      const latencyMs = Math.round((performance.now() - started) * 10) / 10
      if (pending.length > 0) return { ready: false, migrations: 'pending', pending, latencyMs }
      return { ready: true, migrations: 'applied', latencyMs }
    } catch (error) {
      return { ready: false, error: (error as Error).message }
    }
  })

  app.readinessChecks.set('webhooks', async () => {
    try {
      const received = await withStatementTimeout(app.db.pool, DATABASE_CHECK_TIMEOUT_MS, (client) => lastReceivedByProvider(client, providerNames))
      // Every provider is named, so "never received one" reads as null rather than as a missing key.
      return { ready: true, lastReceivedAt: Object.fromEntries(providers.map(({ name }) => [name, received[name] ?? null])) }
    } catch {
      // Reported by the database check; this one is informational only.
      return { ready: true, lastReceivedAt: null }
    }
  })

  const typed = app.withTypeProvider<ZodTypeProvider>()

  // Health answers while the process sheds load: that is when an orchestrator needs it most.
  const config = { shedUnderPressure: false }

  typed.get('/health/live', {
    config,
    schema: {
      tags: ['ops'],
      summary: 'Liveness: 200 while the process runs',
      response: { 200: z.object({ status: z.literal('ok') }) }
    }
  }, async () => ({ status: 'ok' as const }))

  typed.get('/health/ready', {
    config,
    schema: {
      tags: ['ops'],
      summary: 'Readiness: database reachable and migrated, plus component detail',
      response: { 200: readinessSchema, 503: readinessSchema }
    }
  }, async (_request, reply) => {
    const { ready, checks } = await app.readiness()
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks })
  })
}, { name: 'health-routes', dependencies: ['database', 'readiness'], encapsulate: true })
