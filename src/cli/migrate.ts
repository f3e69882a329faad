import { pino } from 'pino'
import { ConfigError, loadConfig, withDatabaseUrl } from '../config.js'
import { createDatabase } from '../db/database.js'
import { startEmbeddedPostgres } from '../db/embedded-postgres.js'
import { migrate } from '../db/migrator.js'
import { loggerOptions } from '../logger.js'

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
async function main () {
  let config = loadConfig()
  const log = pino(loggerOptions(config))
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ ...config.embeddedPostgres, log })
  if (embedded) config = withDatabaseUrl(config, embedded.url)
  const db = createDatabase(config.databaseUrl as string, { poolSize: 1 })
  try {
    const result = await migrate(db.pool)
    log.info({ applied: result.applied, alreadyApplied: result.alreadyApplied },
      result.applied.length > 0 ? 'migrations applied' : 'nothing to migrate')
  } finally {
    await db.close()
    await embedded?.stop()
  }
}

main().catch((error: unknown) => {
  const text = error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))
  process.stderr.write(`db:migrate failed: ${text}\n`)
  process.exit(1)
})
