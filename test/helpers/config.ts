import { parseConfig, type Config } from '../../src/config.js'

/** A valid configuration for tests: defaults, quiet logs, no reconciler unless asked for. */
export function testConfig (databaseUrl: string, overrides: Record<string, string> = {}): Config {
  return parseConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    RECONCILE_ENABLED: 'false',
    ...overrides
  })
}
