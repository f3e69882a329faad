/**
 * The simulator as a process: `npm run simulator` (tsx) or `node dist/simulator/cli.js`. Serves
 * every upstream of the provider registry on one port. Prints `simulator listening on
 * http://HOST:PORT` on stdout once it accepts requests (the demo and the e2e tests wait for that
 * line), then the variables that point a mirror at it. SIGTERM / SIGINT close it (timers cleared,
 * exit 0).
 *
 * Environment (empty counts as unset):
 *   SIMULATOR_HOST          listen address                                127.0.0.1
 *   SIMULATOR_PORT          listen port, 0 = any free port                4010
 *   SIMULATOR_LOG_LEVEL     pino level                                    info
 *   SIMULATOR_SEED          seed for order numbers, outcomes, faults      random (logged)
 * and each upstream's own SIMULATOR_* variables: API key, delays, webhooks, faults (also
 * switchable at runtime through the control API). src/simulator/README.md lists every one.
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
  const log = pino({ level: config.logLevel, redact: { paths: ['*.webhookSecret', '*.apiKey', 'webhookSecret', 'apiKey'], censor: '[redacted]' } })
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
  // Deliberately on stdout, not through pino: the sandbox's own keys, printed to be copied.
  console.log('# point a mirror at this simulator:')
  for (const [name, value] of Object.entries(simulator.mirrorEnvironment(simulator.url))) console.log(`${name}=${value}`)
}

main().catch((error: unknown) => {
  console.error(`simulator failed to start: ${(error as Error).stack ?? String(error)}`)
  process.exit(1)
})
