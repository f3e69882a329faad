import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { AppError, errorBody } from '../errors.js'
import { providers } from '../providers/index.js'
import type { ProviderModule } from '../providers/provider-module.js'
import { controlRoutes } from './control-routes.js'
import { optionsOf, simulatorOptionsSchema, type SimulatorOptionsInput } from './options.js'
import type { PersonalityInstance } from './personality.js'
import { createRandomStreams } from './random.js'
import { Sleeper } from './sleeper.js'
import type { BaseControl } from './control.js'

export interface SimulatorDependencies {
  /** Fastify's `logger` option; off unless given (the CLI turns it on). */
  logger?: FastifyServerOptions['logger']
  /** A pino logger the caller built; wins over `logger`. */
  loggerInstance?: FastifyBaseLogger
  /** Wall clock for order timestamps, outages and signatures; tests may pin it. */
  now?: () => number
}

type Registered = typeof providers
type ControlOf<M extends Registered[number]> = ReturnType<M['simulator']['start']>['control']

/** Each simulated upstream's control, by provider name. */
export type SimulatorControls = { readonly [M in Registered[number] as M['name']]: ControlOf<M> }

export interface Simulator {
  app: FastifyInstance
  /** The first upstream's control: what the paths under `/_control/` without a name drive. */
  control: ControlOf<Registered[0]>
  controls: SimulatorControls
  /** The variables that point a mirror at this simulator, for every upstream. */
  mirrorEnvironment (baseUrl: string): Record<string, string>
}

/** `/_control/<name>/…` for every upstream; the first also keeps the bare `/_control/…`. */
function controlPrefixes (module: ProviderModule, index: number): string[] {
  return index === 0 ? ['/_control', `/_control/${module.name}`] : [`/_control/${module.name}`]
}

/**
 * The simulator: every upstream of the provider registry on one port — each with its own API,
 * orders, faults, stats and webhooks — plus /_control, all state in memory. Returned without
 * listening, like buildApp; closing the app clears every timer and aborts webhook deliveries.
 */
export async function buildSimulator (input: SimulatorOptionsInput = {}, deps: SimulatorDependencies = {}): Promise<Simulator> {
  const options = simulatorOptionsSchema.parse(input)
  const now = deps.now ?? Date.now
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    // Per-request log lines would cost more than the simulated work at benchmark rates.
    logController: new LogController({ disableRequestLogging: true }),
    // Upstream references may be long; Fastify's default would 404 past 100 characters.
    routerOptions: { maxParamLength: 500 },
    bodyLimit: 1024 * 1024
  })
  const sleeper = new Sleeper()
  const modules: readonly ProviderModule[] = providers
  const running: Array<{ module: ProviderModule, instance: PersonalityInstance<BaseControl> }> = modules.map((module, index) => ({
    module,
    instance: module.simulator.start({
      seed: options.seed,
      random: createRandomStreams(options.seed, index),
      now,
      log: app.log.child({ upstream: module.name }),
      sleeper
    }, optionsOf(options, module, index))
  }))

  // The project's error shape, for the control API and any upstream that does not set its own.
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, 'NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message))
    // A body that is missing or not JSON is BAD_REQUEST, whatever the parser's cause.
    if (error.statusCode === 400 || error.statusCode === 415) {
      return reply.code(400).send(errorBody(400, 'BAD_REQUEST', error.statusCode === 415 ? 'Content-Type must be application/json' : 'Request body must be valid JSON'))
    }
    if (error.statusCode === 413) return reply.code(413).send(errorBody(413, 'PAYLOAD_TOO_LARGE', 'Request body too large'))
    request.log.error({ err: error }, 'simulator error')
    return reply.code(500).send(errorBody(500, 'INTERNAL_ERROR', 'Internal server error'))
  })

  // Wake held-back responses before the server waits for in-flight requests to finish.
  app.addHook('preClose', async () => sleeper.wakeAll())
  app.addHook('onClose', async () => {
    await Promise.all(running.map(({ instance }) => instance.close()))
  })
  app.addHook('onReady', async () => {
    const upstreams = Object.fromEntries(running.map(({ module, instance }) => [module.name, instance.summary()]))
    app.log.info({ seed: options.seed, ...upstreams }, 'simulator ready')
  })

  for (const [index, { module, instance }] of running.entries()) {
    await app.register(instance.api)
    for (const prefix of controlPrefixes(module, index)) {
      await app.register(controlRoutes, { prefix, control: instance.control, orderRoutes: instance.orderControlApi })
    }
  }

  for (const { instance } of running) instance.started()

  const controls = Object.fromEntries(running.map(({ module, instance }) => [module.name, instance.control]))
  return {
    app,
    // The registry's order is the order of these types: entry 0 is the first upstream's control.
    control: running[0]?.instance.control as ControlOf<Registered[0]>,
    controls: controls as SimulatorControls,
    mirrorEnvironment: (baseUrl) => Object.assign({}, ...running.map(({ instance }) => instance.mirrorEnvironment(baseUrl)))
  }
}

export interface RunningSimulator extends Simulator {
  /** e.g. http://127.0.0.1:4010 — the base URL to give the service for every upstream. */
  url: string
  close (): Promise<void>
}

/** Builds and listens; port 0 picks a free port (read it from `url`). */
export async function startSimulator (
  input: SimulatorOptionsInput = {},
  listen: { host?: string, port?: number } = {},
  deps: SimulatorDependencies = {}
): Promise<RunningSimulator> {
  const simulator = await buildSimulator(input, deps)
  const host = listen.host ?? '127.0.0.1'
  await simulator.app.listen({ host, port: listen.port ?? 0 })
  const address = simulator.app.server.address()
  const port = typeof address === 'object' && address ? address.port : listen.port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return { ...simulator, url: `http://${shownHost}:${port}`, close: () => simulator.app.close() }
}
