import type { LoggerOptions } from 'pino'
import type { Config } from './config.js'
import { providers } from './providers/index.js'
import { traceLogFields } from './tracing/log-correlation.js'

/** Header names whose values are credentials; lower-case, as Node hands headers over. */
function secretHeaders (config: Config): string[] {
  return [...new Set([
    'x-api-key',
    'authorization',
    'cookie',
    ...providers.flatMap(({ webhook }) => webhook.secretHeaders(config))
  ])]
}

/**
 * pino options shared by the service and its CLIs: JSON lines in production, pretty output when a
 * person is watching a terminal, and credentials censored wherever they could surface.
 */
export function loggerOptions (config: Config, destinationIsTty = process.stdout.isTTY): LoggerOptions {
  const headerPaths = secretHeaders(config).flatMap((name) => [
    `req.headers["${name}"]`,
    `headers["${name}"]`
  ])
  return {
    level: config.logLevel,
    // Only when tracing is on: every line written inside a span then names its trace.
    ...(config.tracing.otlpEndpoint !== null ? { mixin: traceLogFields } : {}),
    redact: {
      paths: [
        ...headerPaths,
        '*.apiKey', '*.secret', '*.secrets', '*.password', '*.databaseUrl',
        'apiKey', 'secret', 'password', 'databaseUrl'
      ],
      censor: '[redacted]'
    },
    ...(destinationIsTty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {})
  }
}
