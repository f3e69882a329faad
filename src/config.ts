import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import os from 'node:os'
import { config as loadDotenv } from 'dotenv'
import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const commaList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part.length > 0))

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes')

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(min).max(max)

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).transform((url) => url.replace(/\/+$/, ''))

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
  .refine((value) => URL.canParse(value), 'expected a valid URL')

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
  .refine((value) => URL.canParse(value), 'expected a valid URL')

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name')
  .transform((value) => value.toLowerCase())

// Keys are checked here so one that does not parse stops the start with the variable named, not
// the first notification or poll. Literal `\n` escapes are undone: a PEM in a one-line env var has them.
const pemText = z.string().transform((value) => value.replaceAll('\\n', '\n'))

function isRsaKey (load: (pem: string) => KeyObject): (pem: string) => boolean {
  return (pem) => {
    try {
      return load(pem).asymmetricKeyType === 'rsa'
    } catch {
      return false
    }
  }
}

const rsaPublicKeyPem = pemText
  // createPublicKey would happily derive a public key from a private one: refuse it instead, since
  // a private key in this variable is a secret in the wrong place.
  .refine((pem) => !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem), 'expected the platform PUBLIC key, got a private key')
  .refine(isRsaKey(createPublicKey), 'expected an RSA public key or certificate in PEM form')

const rsaPrivateKeyPem = pemText
  .refine((pem) => /-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem), {
    message: 'expected an unencrypted RSA private key in PEM form (PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1 "BEGIN RSA PRIVATE KEY")',
    abort: true
  })
  .refine(isRsaKey(createPrivateKey), 'expected an RSA private key that parses')

/** What the signing module can put into an Authorization parameter: visible ASCII without `,` `"` `\`. */
const authorizationValue = z.string().regex(/^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]{1,255}$/, 'expected visible ASCII without commas, quotes or backslashes')

/** `404:NOT_FOUND,400:ORDER_NOT_EXIST`: the error answers that mean "no such order". */
const notFoundAnswers = commaList.pipe(z.array(
  z.string().regex(/^[1-5]\d\d:[A-Za-z0-9_.-]{1,128}$/, 'expected STATUS:NAME pairs such as 404:NOT_FOUND')
    .transform((pair) => {
      const [status, name] = pair.split(':') as [string, string]
      return { status: Number(status), name }
    })
).min(1, 'expected at least one STATUS:NAME pair'))

/** Hosts, IPs and CIDR ranges (see src/domain/outbound-target.ts, which config may not import). */
const outboundTargets = commaList.pipe(z.array(z.string().refine((entry) => {
  const [address = '', prefix, extra] = entry.split('/')
  if (extra !== undefined) return false
  if (prefix !== undefined) return isIP(address) !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(address) === 4 ? 32 : 128)
  return isIP(address) !== 0 || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(entry)
}, 'expected host names, IP addresses or CIDR ranges such as 10.0.0.0/8')))

// ---- the variables ---------------------------------------------------------------------------
//
// Each variable is declared once, here: its name, its schema and default, whether it is secret,
// its doc comment, and — by where it sits — its place in the Config the code reads. The flat
// environment schema, the Config type, the list of secret variables and the list checked against
// .env.example are all derived from this tree.

interface Variable<Schema extends z.ZodType = z.ZodType> {
  readonly name: string
  readonly schema: Schema
  /** Its value is never printed, not even in a configuration error. */
  readonly secret: boolean
}

function variable<Schema extends z.ZodType> (name: string, schema: Schema, options: { secret?: boolean } = {}): Variable<Schema> {
  return { name, schema, secret: options.secret === true }
}

interface Declaration {
  readonly [key: string]: Variable | Declaration
}

const declaration = {
  /** Listen port (fixed name). */
  port: variable('PORT', integer(0, 65535).default(3000)),
  /** Listen address (fixed name). */
  host: variable('HOST', z.string().min(1).default('0.0.0.0')),
  http: {
    /** Longest a client may take to send a whole request, headers and body; then 408 and the connection closes. */
    requestTimeoutMs: variable('HTTP_REQUEST_TIMEOUT_MS', integer(100, 3_600_000).default(30_000)),
    /** Longest a client may take to send the request headers (at most HTTP_REQUEST_TIMEOUT_MS). */
    headersTimeoutMs: variable('HTTP_HEADERS_TIMEOUT_MS', integer(100, 3_600_000).default(10_000)),
    /** A connection with no traffic in either direction for this long is closed. */
    connectionTimeoutMs: variable('HTTP_CONNECTION_TIMEOUT_MS', integer(100, 3_600_000).default(120_000)),
    /** An idle keep-alive connection is kept this long; longer than a load balancer's idle timeout (60 s on the common ones). */
    keepAliveTimeoutMs: variable('HTTP_KEEP_ALIVE_TIMEOUT_MS', integer(100, 3_600_000).default(72_000)),
    /** Largest request head (request line and headers) accepted; larger ones get 431. */
    maxHeaderBytes: variable('HTTP_MAX_HEADER_BYTES', integer(1024, 1024 * 1024).default(16 * 1024))
  },
  /** PostgreSQL connection string; unset runs an embedded PostgreSQL under EMBEDDED_PG_DIR. */
  databaseUrl: variable('DATABASE_URL', postgresUrl.optional(), { secret: true }),
  /** Connections the service keeps open to PostgreSQL. */
  databasePoolSize: variable('DATABASE_POOL_SIZE', integer(1, 500).default(10)),
  mergeBatching: {
    /** Most deliveries merged in one transaction (group commit). */
    maxBatchSize: variable('MERGE_BATCH_MAX_SIZE', integer(1, 1000).default(100)),
    /** Most merge transactions in flight at once; deliveries arriving meanwhile join the next batch. */
    maxConcurrentBatches: variable('MERGE_BATCH_CONCURRENCY', integer(1, 100).default(2))
  },
  /** Longest one statement may run on a pooled connection before PostgreSQL cancels it; 0 disables. */
  databaseStatementTimeoutMs: variable('DATABASE_STATEMENT_TIMEOUT_MS', integer(0, 3_600_000).default(30_000)),
  /** Longest a request waits for a free pooled connection before the database counts as unavailable. */
  databaseConnectionTimeoutMs: variable('DATABASE_CONNECTION_TIMEOUT_MS', integer(100, 600_000).default(5000)),
  embeddedPostgres: {
    /** Data directory of the embedded PostgreSQL used when DATABASE_URL is unset. */
    dataDir: variable('EMBEDDED_PG_DIR', z.string().min(1).default('./.data/postgres')),
    /** Loopback port of the embedded PostgreSQL. */
    port: variable('EMBEDDED_PG_PORT', integer(1, 65535).default(54329))
  },

  /** Keys merchant systems send in X-API-Key; none configured means every merchant call gets 401. */
  apiKeys: variable('API_KEYS', commaList.default([]), { secret: true }),
  rateLimit: {
    /** Requests one API key may make per RATE_LIMIT_WINDOW_MS. */
    max: variable('RATE_LIMIT_MAX', integer(1).default(6000)),
    windowMs: variable('RATE_LIMIT_WINDOW_MS', integer(1000).default(60_000)),
    /** Redis that holds the rate limit counts, shared by every replica; unset counts per instance. */
    redisUrl: variable('REDIS_URL', redisUrl.optional(), { secret: true }),
    /** Prefix of the rate limit keys in Redis (several deployments may share one Redis). */
    redisKeyPrefix: variable('RATE_LIMIT_REDIS_PREFIX', z.string().min(1).max(200).default('order-mirror:rate-limit:'))
  },

  gameso: {
    baseUrl: variable('GAMESO_BASE_URL', httpUrl.default('https://api.gameso.io')),
    /** The mirror's own GameSO key; unset disables polling, read-through and create forwarding. */
    apiKey: variable('GAMESO_API_KEY', z.string().min(1).optional(), { secret: true }),
    /** Webhook signing secrets; several may be active during a rotation. */
    webhookSecrets: variable('GAMESO_WEBHOOK_SECRETS', commaList.default([]), { secret: true }),
    /** Header that carries the GameSO webhook signature (the public docs do not name it). */
    signatureHeader: variable('GAMESO_SIGNATURE_HEADER', headerName.default('x-gameso-signature')),
    /** Upper bound of requests per second the mirror sends to GameSO. */
    maxRequestsPerSecond: variable('GAMESO_MAX_REQUESTS_PER_SECOND', z.coerce.number({ message: 'expected a number' }).positive().default(20)),
    /** Requests to GameSO in flight at once. */
    maxConcurrency: variable('GAMESO_MAX_CONCURRENCY', integer(1, 1000).default(8)),
    /** Per-request timeout for GameSO calls. */
    timeoutMs: variable('GAMESO_TIMEOUT_MS', integer(100).default(10_000))
  },

  midasbuy: {
    baseUrl: variable('MIDASBUY_BASE_URL', httpUrl.default('https://api-payments.midasbuy.com')),
    /** MidasBuy platform public key (PEM; literal `\n` escapes allowed) that verifies payment notifications; unset refuses them with 500. */
    platformPublicKey: variable('MIDASBUY_PLATFORM_PUBLIC_KEY', rsaPublicKeyPem.optional(), { secret: true }),
    /** Header that carries the MidasBuy signature (the public docs cut off before naming it). */
    signatureHeader: variable('MIDASBUY_SIGNATURE_HEADER', headerName.default('txgw-signature')),
    /** The mirror's MidasBuy app id; with MIDASBUY_MERCHANT_PRIVATE_KEY it turns on OrderQuery (polling, read-through, sync). */
    appId: variable('MIDASBUY_APP_ID', authorizationValue.optional()),
    /** Merchant private key (PEM with real line breaks, checked at start; PKCS#8 or PKCS#1; literal `\n` escapes allowed) that signs OrderQuery requests. */
    merchantPrivateKey: variable('MIDASBUY_MERCHANT_PRIVATE_KEY', rsaPrivateKeyPem.optional(), { secret: true }),
    /** Serial number of the merchant certificate registered with MidasBuy, sent with every signature. */
    certSerialNo: variable('MIDASBUY_CERT_SERIAL_NO', authorizationValue.optional()),
    /** Upper bound of requests per second the mirror sends to MidasBuy (MidasBuy documents no limit). */
    maxRequestsPerSecond: variable('MIDASBUY_MAX_REQUESTS_PER_SECOND', z.coerce.number({ message: 'expected a number' }).positive().default(10)),
    /** Requests to MidasBuy in flight at once. */
    maxConcurrency: variable('MIDASBUY_MAX_CONCURRENCY', integer(1, 1000).default(4)),
    /** Per-request timeout for MidasBuy calls. */
    timeoutMs: variable('MIDASBUY_TIMEOUT_MS', integer(100).default(10_000)),
    /** Error answers (STATUS:NAME) that mean MidasBuy has no such order; MidasBuy documents none, 404 NOT_FOUND is assumed. */
    notFoundAnswers: variable('MIDASBUY_NOT_FOUND_ERRORS', notFoundAnswers.default([{ status: 404, name: 'NOT_FOUND' }])),
    // The MIDASBUY_SIGNATURE_* defaults reproduce MidasBuy's SDK example, as the signing module's do.
    signing: {
      /** URL line of the signed string: `path` (path and query) or `absolute` (scheme, host, path, query). */
      urlForm: variable('MIDASBUY_SIGNATURE_URL_FORM', z.enum(['path', 'absolute']).default('path')),
      /** Authorization parameter that carries the app id. */
      authIdParameter: variable('MIDASBUY_SIGNATURE_AUTH_ID_PARAMETER', z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'expected a parameter name').default('auth_id')),
      /** Value of the auth_id_type parameter (MidasBuy's SDK: app_id; MidasPay: MERCHANT_ID); `none` (null) leaves it out. */
      authIdType: variable('MIDASBUY_SIGNATURE_AUTH_ID_TYPE', authorizationValue.default('app_id').transform((value) => value === 'none' ? null : value)),
      /** Send the Authorization values in double quotes. */
      quoteValues: variable('MIDASBUY_SIGNATURE_QUOTE_VALUES', booleanFlag.default(false))
    }
  },

  webhooks: {
    /** Webhook timestamps further than this from now are refused; 0 disables the check (fixed). */
    toleranceSeconds: variable('WEBHOOK_TOLERANCE_SECONDS', integer(0).default(3600)),
    /** Largest webhook body accepted. */
    bodyLimitBytes: variable('WEBHOOK_BODY_LIMIT_BYTES', integer(1024, 64 * 1024 * 1024).default(256 * 1024)),
    /** Inbox rows older than this are deleted; 0 keeps them forever. */
    inboxRetentionDays: variable('INBOX_RETENTION_DAYS', integer(0).default(30))
  },

  reconcile: {
    /** Run the reconciler in this instance (fixed). */
    enabled: variable('RECONCILE_ENABLED', booleanFlag.default(true)),
    /** How often the reconciler looks for due orders (fixed). */
    intervalMs: variable('RECONCILE_INTERVAL_MS', integer(100).default(5000)),
    /** A non-final order not updated for this long is polled (fixed). */
    staleAfterMs: variable('RECONCILE_STALE_AFTER_MS', integer(0).default(60_000)),
    /** Ceiling of the exponential poll backoff (fixed). */
    maxBackoffMs: variable('RECONCILE_MAX_BACKOFF_MS', integer(1).default(900_000)),
    /** After this long without reaching a final state an order is abandoned (fixed). */
    giveUpAfterMs: variable('RECONCILE_GIVE_UP_AFTER_MS', integer(1).default(86_400_000)),
    /** Orders claimed per reconcile batch. */
    batchSize: variable('RECONCILE_BATCH_SIZE', integer(1, 10_000).default(100)),
    /** Consecutive 404s after which an order is marked not_found_upstream. */
    notFoundLimit: variable('RECONCILE_NOT_FOUND_LIMIT', integer(1).default(5))
  },

  merchantWebhooks: {
    /** Run the merchant-webhook delivery worker in this instance (safe in several at once). */
    deliveryEnabled: variable('MERCHANT_WEBHOOK_DELIVERY_ENABLED', booleanFlag.default(true)),
    /** Hosts (exact, case-insensitive) and IP ranges (CIDR) endpoint URLs may point at; unset: any host. */
    allowedTargets: variable('MERCHANT_WEBHOOK_ALLOWED_TARGETS', outboundTargets.default([])),
    /** One delivery attempt, connect to end of response, gives up after this long. */
    timeoutMs: variable('MERCHANT_WEBHOOK_TIMEOUT_MS', integer(100, 300_000).default(10_000)),
    /** Most delivery attempts in flight in this instance. */
    concurrency: variable('MERCHANT_WEBHOOK_CONCURRENCY', integer(1, 1000).default(8)),
    /** How often the worker looks for due deliveries when it is idle. */
    pollIntervalMs: variable('MERCHANT_WEBHOOK_POLL_INTERVAL_MS', integer(10, 600_000).default(1000)),
    /** Ceiling of the retry backoff and of an honoured Retry-After. */
    maxBackoffSeconds: variable('MERCHANT_WEBHOOK_MAX_BACKOFF_SECONDS', integer(1).default(21_600))
  },

  changesFeed: {
    /** While a long-poll (`wait`) holds an empty page, the feed is read again this often. */
    pollIntervalMs: variable('CHANGES_FEED_POLL_INTERVAL_MS', integer(10, 10_000).default(250))
  },

  /** Thresholds of load shedding (503 OVERLOADED); 0 disables one. */
  loadShedding: {
    /** Shed requests while the event loop lags more than this on average; 0 disables. */
    maxEventLoopDelayMs: variable('LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS', integer(0).default(1000)),
    /** Shed requests while the V8 heap holds more than this; unset (null): 90 % of V8's heap limit; 0 disables. */
    maxHeapUsedBytes: variable('LOAD_SHED_MAX_HEAP_USED_BYTES', integer(0).nullable().default(null)),
    /** Shed requests while the process's resident memory exceeds this; 0 (default) disables: set it below the container's limit. */
    maxRssBytes: variable('LOAD_SHED_MAX_RSS_BYTES', integer(0).default(0)),
    /** How often event-loop delay and memory are sampled. */
    sampleIntervalMs: variable('LOAD_SHED_SAMPLE_INTERVAL_MS', integer(10, 60_000).default(1000))
  },

  tracing: {
    /** OTLP/HTTP collector base URL (spans go to `<it>/v1/traces`); unset: no tracing, and the OpenTelemetry SDK is not loaded. */
    otlpEndpoint: variable('OTEL_EXPORTER_OTLP_ENDPOINT', httpUrl.nullable().default(null)),
    /** `service.name` of the spans. */
    serviceName: variable('OTEL_SERVICE_NAME', z.string().min(1).max(200).default('order-mirror'))
  },
  /** The commit `order_mirror_build_info` reports; unset: the checkout's git HEAD, or `unknown` without git (an image passes it as a build argument). */
  buildCommit: variable('BUILD_COMMIT', z.string().regex(/^[0-9A-Za-z._-]{1,64}$/, 'expected a commit id or tag (letters, digits, . _ -)').nullable().default(null)),
  /** Identifies this instance in poll leases and logs. */
  instanceId: variable('INSTANCE_ID', z.string().min(1).default(`${os.hostname()}-${process.pid}`)),
  logLevel: variable('LOG_LEVEL', z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info')),
  /** Longest a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: variable('SHUTDOWN_TIMEOUT_MS', integer(100).default(10_000))
} as const satisfies Declaration

// ---- what is derived from it ------------------------------------------------------------------

/** The nested, read-only shape a declaration parses into; doc comments carry over from its keys. */
type Parsed<D> = {
  readonly [Key in keyof D]: D[Key] extends Variable<infer Schema> ? Readonly<z.output<Schema>> : Parsed<D[Key]>
}

function isVariable (entry: Variable | Declaration): entry is Variable {
  return entry.schema instanceof z.ZodType && typeof entry.name === 'string'
}

function variablesOf (tree: Declaration): Variable[] {
  return Object.values(tree).flatMap((entry) => isVariable(entry) ? [entry] : variablesOf(entry))
}

function nest<D extends Declaration> (tree: D, env: Readonly<Record<string, unknown>>): Parsed<D> {
  const entries = Object.entries(tree).map(([key, entry]) => [key, isVariable(entry) ? env[entry.name] : nest(entry, env)])
  // The one step TypeScript cannot follow: the tree is walked at run time, key by key, so each
  // value lands where Parsed<D> puts it, taken from the flat result under its variable's name.
  return Object.fromEntries(entries) as Parsed<D>
}

const VARIABLES = variablesOf(declaration)

/** Every environment variable the service reads, in declaration order. */
export const CONFIG_VARIABLES: readonly string[] = VARIABLES.map((entry) => entry.name)

/** Variables whose values must never be printed, not even in a configuration error. */
export const SECRET_CONFIG_VARIABLES: ReadonlySet<string> = new Set(VARIABLES.filter((entry) => entry.secret).map((entry) => entry.name))

const configSchema = z
  .object(Object.fromEntries(VARIABLES.map((entry) => [entry.name, entry.schema])))
  .transform((env) => nest(declaration, env))
  // Rules between variables; each names the variable to change.
  .refine((config) => config.http.headersTimeoutMs <= config.http.requestTimeoutMs, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS'
  })

export type Config = z.output<typeof configSchema>

/** A configuration whose database is known: its own DATABASE_URL, or one started for it. */
export type DatabaseConfig = Config & { readonly databaseUrl: string }

export class ConfigError extends Error {
  constructor (readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Describes a value without revealing it, so a typo in a secret is diagnosable but not leaked. */
function describeShape (name: string, value: unknown): string {
  if (value === undefined) return 'unset'
  if (typeof value !== 'string') return typeof value
  if (value.length === 0) return 'an empty string'
  if (SECRET_CONFIG_VARIABLES.has(name)) return `a ${value.length}-character value (hidden)`
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
  return JSON.stringify(shown)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/**
 * Problems that no single variable shows: half a MidasBuy signing setup would quietly leave
 * polling off, so name what is missing instead. Judged on presence, so they are reported beside
 * every other problem.
 */
function missingCompanions (input: Readonly<Record<string, string>>): string[] {
  const appId = 'MIDASBUY_APP_ID' in input
  const privateKey = 'MIDASBUY_MERCHANT_PRIVATE_KEY' in input
  const problems: string[] = []
  if (appId !== privateKey) {
    problems.push(`${appId ? 'MIDASBUY_MERCHANT_PRIVATE_KEY' : 'MIDASBUY_APP_ID'}: required with ${appId ? 'MIDASBUY_APP_ID' : 'MIDASBUY_MERCHANT_PRIVATE_KEY'}; the two turn on MidasBuy OrderQuery together (got unset)`)
  }
  if (appId && privateKey && !('MIDASBUY_CERT_SERIAL_NO' in input)) {
    problems.push('MIDASBUY_CERT_SERIAL_NO: required with MIDASBUY_APP_ID and MIDASBUY_MERCHANT_PRIVATE_KEY; every signed request names the merchant certificate (got unset)')
  }
  return problems
}

/**
 * Parses the environment once. Empty strings count as unset, so `FOO=` in a .env file means
 * "use the default" rather than "invalid". Throws ConfigError listing every problem.
 */
/**
 * Parses the environment once. Empty strings count as unset, so `FOO=` in a .env file means
 * "use the default" rather than "invalid". Throws ConfigError listing every problem.
 */
export function parseConfig (env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {}
  for (const name of CONFIG_VARIABLES) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') input[name] = value.trim()
  }
  const result = configSchema.safeParse(input)
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)')
      return `${name}: ${issue.message} (got ${describeShape(name, input[name])})`
    })
  problems.push(...missingCompanions(input))
  if (!result.success || problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(result.data)
}

/** Reads `.env` when present (real environment variables win), then parses process.env. */
export function loadConfig (): Config {
  loadDotenv({ quiet: true })
  return parseConfig(process.env)
}

/**
 * The header merchant webhooks carry their GameSO-scheme signature in: GAMESO_SIGNATURE_HEADER
 * (SPEC §2.4), the one a receiver written for GameSO reads, whichever upstream the order is from.
 */
export function merchantWebhookSignatureHeader (config: Config): string {
  return config.gameso.signatureHeader
}

export function hasDatabaseUrl (config: Config): config is DatabaseConfig {
  return config.databaseUrl !== undefined
}

/** A copy of the configuration pointing at another database (used when one is started for us). */
export function withDatabaseUrl (config: Config, databaseUrl: string): DatabaseConfig {
  return deepFreeze({ ...structuredClone(config), databaseUrl })
}

/** Credentials to use instead of the configured ones; what is left out stays as configured. */
export interface CredentialOverrides {
  apiKeys?: readonly string[]
  gamesoWebhookSecrets?: readonly string[]
  midasbuyPlatformPublicKey?: string
}

/** A copy of the configuration with some credentials replaced (local development credentials). */
export function withCredentials (config: Config, overrides: CredentialOverrides): Config {
  const copy = structuredClone(config)
  return deepFreeze({
    ...copy,
    apiKeys: overrides.apiKeys ? [...overrides.apiKeys] : copy.apiKeys,
    gameso: { ...copy.gameso, webhookSecrets: overrides.gamesoWebhookSecrets ? [...overrides.gamesoWebhookSecrets] : copy.gameso.webhookSecrets },
    midasbuy: { ...copy.midasbuy, platformPublicKey: overrides.midasbuyPlatformPublicKey ? overrides.midasbuyPlatformPublicKey : copy.midasbuy.platformPublicKey }
  })
}
