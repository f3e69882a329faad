import { symbols, type Logger } from 'pino'
import type { Config } from '../config.js'
import { providers } from '../providers/index.js'
import { localCredentialsFile, localCredentialsInForce, type CredentialSources } from './local-credentials.js'
import { formatStartBanner, localUrl } from './start-banner.js'

export interface LocalStart {
  /** The configuration with the local credentials standing in for unset credential variables. */
  config: Config
  /** Prints the banner on stdout, after every log line written so far; call once the mirror listens. */
  announce: () => void
}

/** The variable each credential source stands in for. */
const VARIABLES = Object.fromEntries([
  ['apiKey', 'API_KEYS'],
  ...providers.map(({ localCredentials }) => [localCredentials.source, localCredentials.variable])
]) as Record<keyof CredentialSources, string>

/**
 * The stream the logger writes to (stdout, or the pretty-printing worker on a terminal). The banner
 * goes through it rather than process.stdout, which would overtake the log lines still buffered
 * for the asynchronous destination. It is not a log record: no level, no redaction, no JSON.
 */
function logDestination (log: Logger): { write: (text: string) => unknown } {
  return (log as unknown as Record<symbol, { write: (text: string) => unknown }>)[symbols.streamSym] ?? process.stdout
}

/**
 * What a zero-configuration start on the embedded PostgreSQL adds: credentials of its own, so the
 * mirror works out of the box instead of refusing every request. The log says where they are and
 * which are in force, never their values.
 */
export async function prepareLocalStart (config: Config, log: Logger): Promise<LocalStart> {
  const credentialsFile = localCredentialsFile(config.embeddedPostgres.dataDir)
  const inForce = await localCredentialsInForce(config, { create: true })
  const { local: credentials, sources } = inForce
  if (credentials === null || sources === null) throw new Error(`no local credentials in ${credentialsFile}`)
  const standingInFor = Object.entries(sources).flatMap(([name, source]) => source === 'local' ? [VARIABLES[name as keyof CredentialSources]] : [])
  log.info({ file: credentialsFile, standingInFor }, inForce.created ? 'local development credentials created' : 'local development credentials reused')
  const banner = formatStartBanner({ url: localUrl(config.host, config.port), credentialsFile, credentials, sources, cwd: process.cwd() })
  return {
    config: inForce.config,
    announce: () => { logDestination(log).write(banner) }
  }
}
