import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { AppError, errorBody } from '../errors.js'
import { apiRoutes } from './api-routes.js'
import { buildCatalog } from './catalog.js'
import { controlRoutes } from './control-routes.js'
import { FaultState, type faultsPatchSchema } from './faults.js'
import { ORDER_STATUSES, toGameSoOrder, type GameSoOrder, type OrderStatus } from './order.js'
import { OrderBook } from './order-book.js'
import { parseBody, seedBatchSchema, type SeedOrderInput } from './order-schemas.js'
import { settingsSchema, simulatorOptionsSchema, type Settings, type settingsPatchSchema, type SimulatorOptionsInput } from './options.js'
import { createRandomStreams } from './random.js'
import { Sleeper } from './sleeper.js'
import { SimulatorStats } from './stats.js'
import { WebhookDispatcher } from './webhook-dispatcher.js'
import type { z } from 'zod'

export interface SimulatorDependencies {
  /** Fastify's `logger` option; off unless given (the CLI turns it on). */
  logger?: FastifyServerOptions['logger']
  /** A pino logger the caller built; wins over `logger`. */
  loggerInstance?: FastifyBaseLogger
  /** Wall clock for order timestamps and outages; tests may pin it. */
  now?: () => number
}

/** Everything the control API can do, callable in-process too. */
export interface SimulatorControl {
  readonly apiKey: string
  readonly seed: number
  stats (): ReturnType<SimulatorStats['toJSON']>
  resetStats (): void
  faults (): ReturnType<FaultState['toJSON']>
  setFaults (patch: z.output<typeof faultsPatchSchema>): ReturnType<FaultState['toJSON']>
  clearFaults (): ReturnType<FaultState['toJSON']>
  settings (): PublicSettings
  updateSettings (patch: z.output<typeof settingsPatchSchema>): PublicSettings
  /** Inserts orders as if created upstream earlier (see seedOrderSchema); all or none. */
  seedOrders (seeds: readonly SeedOrderInput[]): GameSoOrder[]
  order (referenceId: string): GameSoOrder | undefined
  orders (status?: OrderStatus): GameSoOrder[]
  /** Forces the order's next transition now. */
  advance (referenceId: string): GameSoOrder
  clearOrders (): void
  /** Resolves once no webhook delivery is pending. */
  webhooksIdle (): Promise<void>
}

/** Settings as shown by the control API: the secret itself is never echoed. */
export type PublicSettings = Omit<Settings, 'webhookSecret'> & { webhookSecretSet: boolean }

export interface Simulator {
  app: FastifyInstance
  control: SimulatorControl
}

/**
 * The GameSO simulator: GameSO's order API plus /_control, all state in memory. Returned without
 * listening, like buildApp; closing the app clears every timer and aborts webhook deliveries.
 */
export async function buildSimulator (input: SimulatorOptionsInput = {}, deps: SimulatorDependencies = {}): Promise<Simulator> {
  const options = simulatorOptionsSchema.parse(input)
  const now = deps.now ?? Date.now
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    // Per-request log lines would cost more than the simulated work at benchmark rates.
    logController: new LogController({ disableRequestLogging: true }),
    // GameSO references may be long; Fastify's default would 404 past 100 characters.
    routerOptions: { maxParamLength: 500 },
    bodyLimit: 1024 * 1024
  })

  // The runtime-changeable part, one object shared by the order book and the dispatcher.
  const settings = Object.fromEntries(Object.keys(settingsSchema.shape).map((key) => [key, options[key as keyof Settings]])) as Settings
  const random = createRandomStreams(options.seed)
  const stats = new SimulatorStats()
  const faults = new FaultState(options.faults, now)
  const sleeper = new Sleeper()
  const dispatcher = new WebhookDispatcher({ settings, faults: () => faults.faults, random: random.webhooks, stats, log: app.log })
  const book = new OrderBook({
    catalog: buildCatalog(options.catalog, options.extraSkus),
    random: random.orders,
    settings,
    now,
    onChange: (order) => dispatcher.orderChanged(order)
  })

  const publicSettings = (): PublicSettings => {
    const { webhookSecret: secret, ...rest } = settings
    return { ...rest, webhookSecretSet: secret !== null }
  }
  const control: SimulatorControl = {
    apiKey: options.apiKey,
    seed: options.seed,
    stats: () => {
      const ordersByStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>
      for (const order of book.values()) ordersByStatus[order.status]++
      return stats.toJSON({ ordersByStatus, ordersTotal: book.size, webhooksPending: dispatcher.pending })
    },
    resetStats: () => stats.reset(),
    faults: () => faults.toJSON(),
    setFaults: (patch) => {
      faults.update(patch)
      return faults.toJSON()
    },
    clearFaults: () => {
      faults.clear()
      return faults.toJSON()
    },
    settings: publicSettings,
    updateSettings: (patch) => {
      // Delay changes apply from each order's next step; switching autoProgress acts at once.
      Object.assign(settings, patch)
      if (patch.autoProgress === true) book.resumeAll()
      if (patch.autoProgress === false) book.pauseAll()
      return publicSettings()
    },
    seedOrders: (seeds) => book.seed(parseBody(seedBatchSchema, { orders: seeds }).orders).map(toGameSoOrder),
    order: (referenceId) => {
      const order = book.get(referenceId)
      return order && toGameSoOrder(order)
    },
    orders: (status) => {
      const found: GameSoOrder[] = []
      for (const order of book.values()) if (status === undefined || order.status === status) found.push(toGameSoOrder(order))
      return found
    },
    advance: (referenceId) => toGameSoOrder(book.advance(referenceId)),
    clearOrders: () => book.clear(),
    webhooksIdle: () => dispatcher.whenIdle()
  }

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, 'NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message))
    // GameSO documents BAD_REQUEST for a body that is missing or not JSON, whatever the cause.
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
    book.pauseAll()
    await dispatcher.close()
  })
  app.addHook('onReady', async () => {
    app.log.info({ seed: options.seed, orders: book.size, webhookUrls: settings.webhookUrls, faults: faults.toJSON() }, 'GameSO simulator ready')
  })

  await app.register(apiRoutes, { apiKey: options.apiKey, book, faults, stats, random: random.api, sleeper })
  await app.register(controlRoutes, { control })
  return { app, control }
}

export interface RunningSimulator extends Simulator {
  /** e.g. http://127.0.0.1:4010 — the base URL to give the service as GAMESO_BASE_URL. */
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
