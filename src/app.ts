import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import { createDatabase, type Database, type DatabaseOptions } from './db/database.js'
import { loggerOptions } from './logger.js'
import { buildInfo } from './metrics/build-info.js'
import { createMetrics, type Metrics } from './metrics/metrics.js'
import { merchantRateLimitStore, merchantScope } from './plugins/auth.js'
import { databasePlugin } from './plugins/database.js'
import { docsPlugin } from './plugins/docs.js'
import { clientErrorHandler, errorHandlerPlugin, frameworkErrorHandler } from './plugins/error-handler.js'
import { inboxRetentionPlugin } from './plugins/inbox-retention.js'
import { loadSheddingPlugin } from './plugins/load-shedding.js'
import { merchantWebhooksPlugin } from './plugins/merchant-webhooks.js'
import { orderCommandsPlugin } from './plugins/order-commands.js'
import { orderSyncPlugin } from './plugins/order-sync.js'
import { readinessPlugin } from './plugins/readiness.js'
import { reconcilerPlugin } from './plugins/reconciler.js'
import { upstreamsPlugin } from './plugins/upstreams.js'
import { webhookIngestPlugin } from './plugins/webhook-ingest.js'
import { providers } from './providers/index.js'
import { healthRoutes } from './routes/health.js'
import { merchantWebhookRoutes } from './routes/merchant-webhooks.js'
import { metricsRoutes } from './routes/metrics.js'
import { orderChangesRoutes } from './routes/order-changes.js'
import { orderRoutes } from './routes/orders.js'
import { webhookRoutes } from './routes/webhooks.js'
import { registerRequestTracing } from './tracing/request-tracing.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    metrics: Metrics
  }
}

export interface AppDependencies {
  /** A database the caller owns (and closes); otherwise one is created from config.databaseUrl. */
  db?: Database
  /** A logger the caller built; otherwise one is built from the configuration. */
  logger?: FastifyBaseLogger
}

/**
 * Builds the whole service without listening: every plugin and route is registered here, in
 * order, so the app's shape reads on one screen. Tests call this and use `inject`.
 */
export async function buildApp (config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(config) }),
    requestIdHeader: 'x-request-id',
    // Webhook routes set their own limit; everything else is small JSON.
    bodyLimit: 64 * 1024,
    // A reference_id may be 255 characters; the router's default cap of 100 (on the decoded path
    // parameter) would answer a longer GET /v1/orders/{reference_id} 414 before validation could.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    // A client that is slow or lies about its Content-Length is cut off with 408 instead of
    // holding a connection (README, Security). Node checks the request and header deadlines
    // every connectionsCheckingInterval, so that is kept well below the shorter of the two.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      maxHeaderSize: config.http.maxHeaderBytes,
      connectionsCheckingInterval: Math.max(50, Math.floor(Math.min(config.http.requestTimeoutMs, config.http.headersTimeoutMs) / 4))
    },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  const db = deps.db ?? createDatabase(requireDatabaseUrl(config), databaseOptions(config))
  app.decorate('config', config)
  const metrics = createMetrics({ providers: providers.map(({ name }) => name) })
  metrics.buildInfo.set({ ...buildInfo(config.buildCommit) }, 1)
  app.decorate('metrics', metrics)

  // Fastify closes idle keep-alive connections once, when close starts. A connection that was busy
  // then and idles afterwards would hold the shutdown until the client drops it, so keep closing
  // idle connections until the server is gone.
  let idleSweeper: NodeJS.Timeout | undefined
  app.addHook('preClose', async () => {
    idleSweeper = setInterval(() => app.server.closeIdleConnections(), 50)
    idleSweeper.unref()
  })
  app.addHook('onClose', async () => { clearInterval(idleSweeper) })

  // Before anything that adds hooks or routes, so every request gets its span and its id.
  if (config.tracing.otlpEndpoint !== null) await registerRequestTracing(app)
  await app.register(errorHandlerPlugin)
  await app.register(readinessPlugin)
  await app.register(loadSheddingPlugin)
  await app.register(databasePlugin, { db, closeOnShutdown: deps.db === undefined })
  await app.register(upstreamsPlugin)
  await app.register(orderSyncPlugin)
  await app.register(webhookIngestPlugin)
  await app.register(orderCommandsPlugin)
  await app.register(inboxRetentionPlugin)
  await app.register(merchantWebhooksPlugin)
  await app.register(docsPlugin)

  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  const merchantLimits = await merchantRateLimitStore(app)
  await merchantScope(app, merchantLimits, async (scope) => {
    // Each provider's routes at its upstream's paths first, then the ones every provider shares.
    for (const provider of providers) {
      for (const routes of provider.routes.merchant) await scope.register(routes)
    }
    await scope.register(orderRoutes)
    await scope.register(merchantWebhookRoutes)
    await scope.register(orderChangesRoutes)
  })
  // A route answering every error in its upstream's shape, the scope's 401 and 429 too, needs a scope of its own.
  for (const provider of providers) {
    for (const routes of provider.routes.ownErrorShape) await merchantScope(app, merchantLimits, async (scope) => { await scope.register(routes) })
  }
  // One webhook route per provider of the registry, each at the path its module fixes.
  for (const provider of providers) await app.register(webhookRoutes(provider))

  // Background work last: its onClose then runs first, before the upstream clients and the database go.
  await app.register(reconcilerPlugin)

  return app
}

/** The pool the configuration asks for: its size and how long statements and connection waits may take. */
export function databaseOptions (config: Config): DatabaseOptions {
  return {
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    connectionTimeoutMs: config.databaseConnectionTimeoutMs
  }
}

function requireDatabaseUrl (config: Config): string {
  if (!config.databaseUrl) throw new Error('buildApp needs config.databaseUrl or a db dependency')
  return config.databaseUrl
}
