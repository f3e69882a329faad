import type { Config } from '../config.js'
import { buildInfo } from '../metrics/build-info.js'

export interface Tracing {
  /** Sends the spans still buffered and stops exporting. */
  shutdown (): Promise<void>
}

/**
 * Starts OpenTelemetry's SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go in batches to the
 * collector over OTLP/HTTP (`<endpoint>/v1/traces`), and the tracer provider, the
 * AsyncLocalStorage context manager and W3C trace-context propagation are registered globally.
 * Without the variable nothing is loaded — the SDK and the exporter are imported only here, only
 * then — and the service's spans stay no-ops. Other OTEL_EXPORTER_OTLP_* variables (headers,
 * timeout, compression) are read by the exporter itself.
 */
export async function startTracing (config: Config): Promise<Tracing | null> {
  const { otlpEndpoint, serviceName } = config.tracing
  if (otlpEndpoint === null) return null
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources')
  ])
  const build = buildInfo(config.buildCommit)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': serviceName,
      'service.version': build.version,
      'service.instance.id': config.instanceId,
      'vcs.ref.head.revision': build.commit
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }))]
  })
  provider.register()
  return { shutdown: () => provider.shutdown() }
}
