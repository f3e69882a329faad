import type { Logger } from 'pino'
import { hasDatabaseUrl, withDatabaseUrl, type Config, type DatabaseConfig } from '../config.js'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js'

export interface ResolvedDatabase {
  config: DatabaseConfig
  /** The server started for this process, which it stops last; null when DATABASE_URL names one. */
  embedded: EmbeddedPostgresHandle | null
}

/** The configured database, or, when DATABASE_URL is unset, an embedded PostgreSQL started now. */
export async function resolveDatabase (config: Config, log: Logger): Promise<ResolvedDatabase> {
  if (hasDatabaseUrl(config)) return { config, embedded: null }
  const embedded = await startEmbeddedPostgres({ ...config.embeddedPostgres, log })
  return { config: withDatabaseUrl(config, embedded.url), embedded }
}
