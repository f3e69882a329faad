import { parseConfig, type Config } from '../../src/config.js'

/**
 * A valid configuration for tests: defaults, quiet logs, no reconciler and no merchant-webhook
 * delivery unless asked for, and no shedding on event-loop delay — on a shared, loaded test machine a stall says nothing about the
 * app under test (test/integration/load-shedding.test.ts turns shedding on where it is the subject).
 */
export function testConfig (databaseUrl: string, overrides: Record<string, string> = {}): Config {
  return parseConfig({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    RECONCILE_ENABLED: 'false',
    MERCHANT_WEBHOOK_DELIVERY_ENABLED: 'false',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides
  })
}
