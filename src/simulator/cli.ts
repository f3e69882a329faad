/**
 * The simulator as a process: `npm run simulator` (tsx) or `node dist/simulator/cli.js`. Serves
 * every upstream of the provider registry on one port. Prints `simulator listening on
 * http://HOST:PORT` on stdout once it accepts requests (the demo and the e2e tests wait for that
 * line), then the variables that point a mirror at it. SIGTERM / SIGINT close it (timers cleared,
 * exit 0). `--with-mirror` also starts a mirror wired to it (src/cli/sandbox.ts) and stops it first.
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
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startSandboxMirror, type SandboxMirror } from '../cli/sandbox.js'
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
  const withMirror = parseArgs({ options: { 'with-mirror': { type: 'boolean', default: false } } }).values['with-mirror']
  const config = readConfig()
  // Beside a mirror, the request lines of both would bury what a person wants to read.
  const level = withMirror && process.env.SIMULATOR_LOG_LEVEL === undefined ? 'warn' : config.logLevel
  const log = pino({ level, redact: { paths: ['*.webhookSecret', '*.apiKey', 'webhookSecret', 'apiKey'], censor: '[redacted]' } })
  const simulator = await startSimulator(config.options, { host: config.host, port: config.port }, { loggerInstance: log })

  const sandboxed: { mirror?: SandboxMirror } = {}
  let closing = false
  const stop = (signal: NodeJS.Signals, exitCode = 0) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'simulator stopping')
    Promise.resolve(sandboxed.mirror?.stop()).then(() => simulator.close()).then(() => process.exit(exitCode), (error: unknown) => {
      console.error(`simulator failed to stop cleanly: ${String(error)}`)
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))

  console.log(`simulator listening on ${simulator.url}`)
  // Deliberately on stdout, not through pino: the sandbox's own keys, printed to be copied.
  console.log('# point a mirror at this simulator:')
  for (const [name, value] of Object.entries(simulator.mirrorEnvironment(simulator.url))) console.log(`${name}=${value}`)
  if (!withMirror) {
    console.log('# or let the simulator start a mirror wired to it: npm run simulator -- --with-mirror')
    return
  }
  const mirror = await startSandboxMirror({ url: simulator.url, mirrorEnvironment: () => simulator.mirrorEnvironment(simulator.url) },
    (text) => { process.stdout.write(text) })
  sandboxed.mirror = mirror
  mirror.exited.then(({ code, signal }) => {
    if (closing) return
    console.error(`the mirror stopped unexpectedly (${signal ?? `exit ${String(code)}`}); stopping the simulator`)
    stop('SIGTERM', 1)
  }, () => {})
}

main().catch((error: unknown) => {
  console.error(`simulator failed to start: ${(error as Error).stack ?? String(error)}`)
  process.exit(1)
})
