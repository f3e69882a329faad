import type { FastifyInstance } from 'fastify'

/** Probes and scrapes come every few seconds and say nothing about an order: no spans for them. */
const UNTRACED_PATHS = ['/health/live', '/health/ready', '/metrics']

/**
 * One span per request, with children for its hooks and handler, through @fastify/otel, the
 * Fastify team's instrumentation. It continues a trace the caller sent (traceparent) and makes the
 * request's span the active one, so the spans of the work the handler does hang under it.
 * Registered before any route, and only when tracing is on: the module is not even loaded otherwise.
 */
export async function registerRequestTracing (app: FastifyInstance): Promise<void> {
  const { FastifyOtelInstrumentation } = await import('@fastify/otel')
  const instrumentation = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: (route: { url: string }) => UNTRACED_PATHS.includes(route.url.split('?')[0] ?? '')
  })
  await app.register(instrumentation.plugin())
}
