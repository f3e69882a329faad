import path from 'node:path'
import { providers } from '../providers/index.js'
import { sourceOf, type CredentialSources, type LocalCredentials } from './local-credentials.js'

/** Reference of the order the banner's lines send and then read, so they work when pasted in order. */
export const FIRST_ORDER_REFERENCE = 'my-first-order'

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', ''])

/** The URL a person (or process) on this machine reaches a service listening on host:port at. */
export function localUrl (host: string, port: number, loopback = 'localhost'): string {
  if (WILDCARD_HOSTS.has(host)) return `http://${loopback}:${port}`
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`
}

export interface StartBannerInput {
  url: string
  credentialsFile: string
  credentials: LocalCredentials
  sources: CredentialSources
  /** Paths are shown relative to this directory when they lie inside it. */
  cwd: string
}

function shownPath (file: string, cwd: string): string {
  const relative = path.relative(cwd, file)
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative
}

/**
 * The few lines `npm start` prints on stdout once it is ready on the embedded PostgreSQL: where it
 * is, the local credentials in force, and commands to paste. Deliberately outside the logs: pino
 * redacts secrets, and these are printed so a developer can use them.
 */
export function formatStartBanner ({ url, credentialsFile, credentials, sources, cwd }: StartBannerInput): string {
  const file = shownPath(credentialsFile, cwd)
  const apiKey = sources.apiKey === 'local' ? credentials.api_key : null
  const rows: Array<[string, string]> = [
    ['X-API-Key', apiKey ?? 'configured (API_KEYS)'],
    ...providers.map(({ localCredentials: part }): [string, string] => [
      part.bannerLabel,
      sources[sourceOf(part)] === 'local' ? part.shownLocal(credentials, file) : `configured (${part.variable})`
    ])
  ]
  // The first provider of the registry is the one a first try sends as.
  const [{ name: firstProvider, sample }] = providers
  const width = Math.max(...rows.map(([name]) => name.length))
  return [
    '',
    `order-mirror is ready at ${url} (embedded PostgreSQL)`,
    '',
    `Local development credentials for this machine only, kept in ${file}:`,
    ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
    'Anything set in the environment or .env is used instead. Never use these in production.',
    '',
    'Try it:',
    `  curl -s ${url}/health/ready`,
    `  npm run send -- ${firstProvider} ${sample.exampleEvent} --ref ${FIRST_ORDER_REFERENCE}`,
    `  curl -s -H 'X-API-Key: ${apiKey ?? '<a key from API_KEYS>'}' ${url}${sample.orderPath(FIRST_ORDER_REFERENCE)}`,
    `  curl -s ${url}/docs/json    # or open ${url}/docs in a browser`,
    '',
    ''
  ].join('\n')
}
