/**
 * GameSO simulator as a process: `npm run simulator` (tsx) or `node dist/simulator/cli.js`.
 * Prints `simulator listening on http://HOST:PORT` on stdout once it accepts requests; the demo
 * and the e2e tests wait for that line. SIGTERM / SIGINT close it (timers cleared, exit 0).
 *
 * Environment (empty counts as unset):
 *   SIMULATOR_HOST                    listen address                          127.0.0.1
 *   SIMULATOR_PORT                    listen port, 0 = any free port          4010
 *   SIMULATOR_LOG_LEVEL               pino level                              info
 *   SIMULATOR_API_KEY                 the X-API-Key the API accepts           sim_api_key
 *   SIMULATOR_SEED                    seed for order numbers, outcomes, faults  random (logged)
 *   SIMULATOR_EXTRA_SKUS              SKU:price[:failureRate],…               none
 *   SIMULATOR_ITEM_FAILURE_RATE       chance an item line fails               0.05
 *   SIMULATOR_PROCESSING_DELAY_MS     pending → processing                    1000
 *   SIMULATOR_COMPLETION_DELAY_MS     processing → completed | failed         1000
 *   SIMULATOR_AUTO_PROGRESS           false: orders move only on /advance     true
 * Webhooks:
 *   SIMULATOR_WEBHOOK_URL             receiver URL(s), comma-separated        none (no webhooks)
 *   SIMULATOR_WEBHOOK_SECRET          HMAC-SHA256 key                         none (unsigned)
 *   SIMULATOR_SIGNATURE_HEADER        signature header                        x-gameso-signature
 *   SIMULATOR_SIGNATURE_PREFIX        text before the hex digest, e.g. sha256=  empty
 *   SIMULATOR_WEBHOOK_EVENTS          statuses that send order.<status>       completed,failed
 *   SIMULATOR_WEBHOOK_MAX_RETRIES     retries after a failed delivery         3
 *   SIMULATOR_WEBHOOK_RETRY_DELAY_MS  fixed delay between attempts            60000
 *   SIMULATOR_WEBHOOK_TIMEOUT_MS      per attempt                             10000
 * Faults (also switchable at runtime: POST /_control/faults):
 *   SIMULATOR_DROP_RATE, SIMULATOR_DUPLICATE_RATE          webhook drop / duplicate chance   0
 *   SIMULATOR_REORDER, SIMULATOR_REORDER_WINDOW_MS         shuffle webhooks per window       false, 1000
 *   SIMULATOR_WEBHOOK_DELAY_MS                             extra random webhook delay, max   0
 *   SIMULATOR_ERROR_RATE                                   API 500/502/503 chance            0
 *   SIMULATOR_RATE_LIMITED_RATE, SIMULATOR_RETRY_AFTER_SECONDS  API 429 chance, Retry-After  0, 1
 *   SIMULATOR_SLOW_MS, SIMULATOR_SLOW_RATE                 hold API answers back             0, 1
 *   SIMULATOR_MAX_RPS                                      hard limit per 1-second window    0 (none)
 *   SIMULATOR_DOWN_FOR_MS                                  answer 503 for this long from start  0
 *
 * The control API (/_control/*) needs no key: keep the simulator on loopback.
 */
import { pino } from 'pino'
import { SimulatorConfigError, simulatorConfigFromEnv, type SimulatorProcessConfig } from './options.js'
import { startSimulator } from './simulator.js'

function readConfig (): SimulatorProcessConfig {
  try {
    return simulatorConfigFromEnv(process.env)
  } catch (error) {
    if (error instanceof SimulatorConfigError) {
      console.error(`simulator cannot start: ${error.message}`)
      process.exit(1)
    }
    throw error
  }
}

async function main () {
  const config = readConfig()
  const log = pino({ level: config.logLevel, redact: { paths: ['webhookSecret', 'apiKey'], censor: '[redacted]' } })
  const simulator = await startSimulator(config.options, { host: config.host, port: config.port }, { loggerInstance: log })

  let closing = false
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'simulator stopping')
    simulator.close().then(() => process.exit(0), (error: unknown) => {
      console.error(`simulator failed to stop cleanly: ${String(error)}`)
      process.exit(1)
    })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)

  console.log(`simulator listening on ${simulator.url}`)
}

main().catch((error: unknown) => {
  console.error(`simulator failed to start: ${(error as Error).stack ?? String(error)}`)
  process.exit(1)
})
