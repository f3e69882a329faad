import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api'

export { SpanKind, type Span }

/**
 * The service's own spans. The OpenTelemetry API alone records nothing: until tracing.ts registers
 * an SDK (OTEL_EXPORTER_OTLP_ENDPOINT set), every span here is a no-op object that costs a call.
 */
const tracer = trace.getTracer('order-mirror')

function fail (span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/** Runs `work` in a new span, active while it runs and ended when it settles; an error is recorded on it and rethrown. */
export async function inSpan<T> (name: string, attributes: Attributes, work: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span)
    } catch (error) {
      fail(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}

/** inSpan for synchronous work (a signature check). */
export function inSpanSync<T> (name: string, attributes: Attributes, work: (span: Span) => T): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      return work(span)
    } catch (error) {
      fail(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}

/** A span its caller ends, for work whose end is not one function's return (a reconcile batch). */
export function startSpan (name: string, attributes: Attributes): Span {
  return tracer.startSpan(name, { attributes })
}

/** Runs `work` with `span` as the active span, so what it starts is a child of it; without one, as it is. */
export function withSpan<T> (span: Span | undefined, work: () => T): T {
  return span === undefined ? work() : context.with(trace.setSpan(context.active(), span), work)
}

/** The active trace as W3C trace-context headers (traceparent), for an outgoing call; empty while tracing is off. */
export function traceContextHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  propagation.inject(context.active(), headers)
  return headers
}
