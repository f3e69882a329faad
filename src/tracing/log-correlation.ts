import { isSpanContextValid, trace } from '@opentelemetry/api'

/**
 * Fields pino adds to every line written while a span is active, so a log line leads to its trace
 * and back (the names OpenTelemetry's log data model and pino's own instrumentation use).
 */
export function traceLogFields (): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext()
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {}
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}` }
}
