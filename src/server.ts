import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp, databaseOptions } from './app.js'
import { ConfigError, loadConfig, withDatabaseUrl, type Config } from './config.js'
import { createDatabase } from './db/database.js'
import { migrate } from './db/migrator.js'
import { resolveDatabase } from './db/resolve-database.js'
import { prepareLocalStart } from './local-dev/local-start.js'
import { loggerOptions } from './logger.js'
import { providers } from './providers/index.js'
import { startTracing } from './tracing/tracing.js'

function readConfig (): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`order-mirror cannot start: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}

async function main () {
  const startedAt = performance.now()
  const loaded = readConfig()
  const log = pino(loggerOptions(loaded))
  const resolved = await resolveDatabase(loaded, log)
  const { embedded } = resolved
  let config = resolved.config
  let announceLocalStart: (() => void) | undefined
  if (embedded) {
    log.info({ dataDir: config.embeddedPostgres.dataDir, port: config.embeddedPostgres.port, created: embedded.initialised },
      embedded.initialised ? 'embedded PostgreSQL created and started' : 'embedded PostgreSQL started')
    const local = await prepareLocalStart(config, log)
    // The local credentials stand in for unset ones; the database stays the one just started.
    config = withDatabaseUrl(local.config, config.databaseUrl)
    announceLocalStart = local.announce
  }

  // Before the app is built, so its spans have a provider from the first request on.
  const tracing = await startTracing(config)
  if (tracing) log.info({ endpoint: config.tracing.otlpEndpoint }, 'tracing to OTLP collector')

  const db = createDatabase(config.databaseUrl, databaseOptions(config))
  const migration = await migrate(db.pool)
  log.info({ applied: migration.applied, alreadyApplied: migration.alreadyApplied },
    migration.applied.length > 0 ? 'database migrated' : 'database schema up to date')

  const app = await buildApp(config, { db, logger: log })
  if (config.apiKeys.length === 0) log.warn('API_KEYS is not set: the merchant API answers 401 to every request')
  for (const { displayName, webhook } of providers) {
    if (webhook.verifierFromConfig(config) === null) {
      log.warn(`${webhook.requires} is not set: ${displayName} webhooks are answered ${webhook.notConfigured.status} WEBHOOK_NOT_CONFIGURED`)
    }
  }

  // Shutdown order: stop HTTP (finishing in-flight requests) and background jobs, then the
  // database pool, then the embedded server if this process started one.
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: { error: (message) => log.error(message) } }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an unexpected error')
    else log.info({ signal }, 'shutting down')
    await app.close()
    await db.close()
    // Last, so the spans of the shutdown itself are sent too.
    await tracing?.shutdown()
    if (embedded) await embedded.stop()
    log.info('stopped')
  })

  await app.listen({ port: config.port, host: config.host })
  log.info({ port: config.port, host: config.host, readyInMs: Math.round(performance.now() - startedAt) }, 'order-mirror ready')
  announceLocalStart?.()
}

main().catch((error: unknown) => {
  process.stderr.write(`order-mirror failed to start: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
