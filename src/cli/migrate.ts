import { pino } from 'pino'
import { ConfigError, loadConfig } from '../config.js'
import { createDatabase } from '../db/database.js'
import { migrate } from '../db/migrator.js'
import { resolveDatabase } from '../db/resolve-database.js'
import { loggerOptions } from '../logger.js'

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
async function main () {
  const loaded = loadConfig()
  const log = pino(loggerOptions(loaded))
  const { config, embedded } = await resolveDatabase(loaded, log)
  const db = createDatabase(config.databaseUrl, { poolSize: 1 })
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
