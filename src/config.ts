import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import os from 'node:os'
import { config as loadDotenv } from 'dotenv'
import { z } from 'zod'

/** Variables whose values must never be printed, not even in a configuration error. */
const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'API_KEYS',
  'GAMESO_API_KEY',
  'GAMESO_WEBHOOK_SECRETS',
  'MIDASBUY_PLATFORM_PUBLIC_KEY',
  'MIDASBUY_MERCHANT_PRIVATE_KEY'
])

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

const envSchema = z.object({
  /** Listen port (fixed name). */
  PORT: integer(0, 65535).default(3000),
  /** Listen address (fixed name). */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Longest a client may take to send a whole request, headers and body; then 408 and the connection closes. */
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 3_600_000).default(30_000),
  /** Longest a client may take to send the request headers (at most HTTP_REQUEST_TIMEOUT_MS). */
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 3_600_000).default(10_000),
  /** A connection with no traffic in either direction for this long is closed. */
  HTTP_CONNECTION_TIMEOUT_MS: integer(100, 3_600_000).default(120_000),
  /** An idle keep-alive connection is kept this long; longer than a load balancer's idle timeout (60 s on the common ones). */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(100, 3_600_000).default(72_000),
  /** Largest request head (request line and headers) accepted; larger ones get 431. */
  HTTP_MAX_HEADER_BYTES: integer(1024, 1024 * 1024).default(16 * 1024),
  /** PostgreSQL connection string; unset runs an embedded PostgreSQL under EMBEDDED_PG_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** Connections the service keeps open to PostgreSQL. */
  DATABASE_POOL_SIZE: integer(1, 500).default(10),
  /** Longest one statement may run on a pooled connection before PostgreSQL cancels it; 0 disables. */
  DATABASE_STATEMENT_TIMEOUT_MS: integer(0, 3_600_000).default(30_000),
  /** Longest a request waits for a free pooled connection before the database counts as unavailable. */
  DATABASE_CONNECTION_TIMEOUT_MS: integer(100, 600_000).default(5000),
  /** Most deliveries merged in one transaction (group commit). */
  MERGE_BATCH_MAX_SIZE: integer(1, 1000).default(100),
  /** Most merge transactions in flight at once; deliveries arriving meanwhile join the next batch. */
  MERGE_BATCH_CONCURRENCY: integer(1, 100).default(1),
  /** Data directory of the embedded PostgreSQL used when DATABASE_URL is unset. */
  EMBEDDED_PG_DIR: z.string().min(1).default('./.data/postgres'),
  /** Loopback port of the embedded PostgreSQL. */
  EMBEDDED_PG_PORT: integer(1, 65535).default(54329),

  /** Keys merchant systems send in X-API-Key; none configured means every merchant call gets 401. */
  API_KEYS: commaList.default([]),
  /** Requests one API key may make per RATE_LIMIT_WINDOW_MS. */
  RATE_LIMIT_MAX: integer(1).default(6000),
  RATE_LIMIT_WINDOW_MS: integer(1000).default(60_000),
  /** Redis that holds the rate limit counts, shared by every replica; unset counts per instance. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').refine((value) => URL.canParse(value), 'expected a valid URL').optional(),
  /** Prefix of the rate limit keys in Redis (several deployments may share one Redis). */
  RATE_LIMIT_REDIS_PREFIX: z.string().min(1).max(200).default('order-mirror:rate-limit:'),

  GAMESO_BASE_URL: httpUrl.default('https://api.gameso.io'),
  /** The mirror's own GameSO key; unset disables polling, read-through and create forwarding. */
  GAMESO_API_KEY: z.string().min(1).optional(),
  /** Webhook signing secrets; several may be active during a rotation. */
  GAMESO_WEBHOOK_SECRETS: commaList.default([]),
  /** Header that carries the GameSO webhook signature (the public docs do not name it). */
  GAMESO_SIGNATURE_HEADER: headerName.default('x-gameso-signature'),
  /** Upper bound of requests per second the mirror sends to GameSO. */
  GAMESO_MAX_REQUESTS_PER_SECOND: z.coerce.number({ message: 'expected a number' }).positive().default(20),
  /** Requests to GameSO in flight at once. */
  GAMESO_MAX_CONCURRENCY: integer(1, 1000).default(8),
  /** Per-request timeout for GameSO calls. */
  GAMESO_TIMEOUT_MS: integer(100).default(10_000),

  MIDASBUY_BASE_URL: httpUrl.default('https://api-payments.midasbuy.com'),
  /** MidasBuy platform public key (PEM; literal `\n` escapes allowed) that verifies payment notifications; unset refuses them with 500. */
  MIDASBUY_PLATFORM_PUBLIC_KEY: rsaPublicKeyPem.optional(),
  /** Header that carries the MidasBuy signature (the public docs cut off before naming it). */
  MIDASBUY_SIGNATURE_HEADER: headerName.default('txgw-signature'),
  /** The mirror's MidasBuy app id; with MIDASBUY_MERCHANT_PRIVATE_KEY it turns on OrderQuery (polling, read-through, sync). */
  MIDASBUY_APP_ID: authorizationValue.optional(),
  /** Merchant private key (PEM, PKCS#8 or PKCS#1; literal `\n` escapes allowed) that signs OrderQuery requests. */
  MIDASBUY_MERCHANT_PRIVATE_KEY: rsaPrivateKeyPem.optional(),
  /** Serial number of the merchant certificate registered with MidasBuy, sent with every signature. */
  MIDASBUY_CERT_SERIAL_NO: authorizationValue.optional(),
  /** Upper bound of requests per second the mirror sends to MidasBuy (MidasBuy documents no limit). */
  MIDASBUY_MAX_REQUESTS_PER_SECOND: z.coerce.number({ message: 'expected a number' }).positive().default(10),
  /** Requests to MidasBuy in flight at once. */
  MIDASBUY_MAX_CONCURRENCY: integer(1, 1000).default(4),
  /** Per-request timeout for MidasBuy calls. */
  MIDASBUY_TIMEOUT_MS: integer(100).default(10_000),
  /** Error answers (STATUS:NAME) that mean MidasBuy has no such order; MidasBuy documents none, 404 NOT_FOUND is assumed. */
  MIDASBUY_NOT_FOUND_ERRORS: notFoundAnswers.default([{ status: 404, name: 'NOT_FOUND' }]),
  // The MIDASBUY_SIGNATURE_* defaults reproduce MidasBuy's SDK example, as the signing module's do.
  /** URL line of the signed string: `path` (path and query) or `absolute` (scheme, host, path, query). */
  MIDASBUY_SIGNATURE_URL_FORM: z.enum(['path', 'absolute']).default('path'),
  /** Authorization parameter that carries the app id. */
  MIDASBUY_SIGNATURE_AUTH_ID_PARAMETER: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'expected a parameter name').default('auth_id'),
  /** Value of the auth_id_type parameter (MidasBuy's SDK: app_id; MidasPay: MERCHANT_ID); `none` leaves it out. */
  MIDASBUY_SIGNATURE_AUTH_ID_TYPE: authorizationValue.default('app_id'),
  /** Send the Authorization values in double quotes. */
  MIDASBUY_SIGNATURE_QUOTE_VALUES: booleanFlag.default(false),

  /** Webhook timestamps further than this from now are refused; 0 disables the check (fixed). */
  WEBHOOK_TOLERANCE_SECONDS: integer(0).default(3600),
  /** Largest webhook body accepted. */
  WEBHOOK_BODY_LIMIT_BYTES: integer(1024, 64 * 1024 * 1024).default(256 * 1024),
  /** Inbox rows older than this are deleted; 0 keeps them forever. */
  INBOX_RETENTION_DAYS: integer(0).default(30),

  /** How often the reconciler looks for due orders (fixed). */
  RECONCILE_INTERVAL_MS: integer(100).default(5000),
  /** A non-final order not updated for this long is polled (fixed). */
  RECONCILE_STALE_AFTER_MS: integer(0).default(60_000),
  /** Ceiling of the exponential poll backoff (fixed). */
  RECONCILE_MAX_BACKOFF_MS: integer(1).default(900_000),
  /** After this long without reaching a final state an order is abandoned (fixed). */
  RECONCILE_GIVE_UP_AFTER_MS: integer(1).default(86_400_000),
  /** Run the reconciler in this instance (fixed). */
  RECONCILE_ENABLED: booleanFlag.default(true),
  /** Orders claimed per reconcile batch. */
  RECONCILE_BATCH_SIZE: integer(1, 10_000).default(100),
  /** Consecutive 404s after which an order is marked not_found_upstream. */
  RECONCILE_NOT_FOUND_LIMIT: integer(1).default(5),

  /** Shed requests (503 OVERLOADED) while the event loop lags more than this on average; 0 disables. */
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: integer(0).default(1000),
  /** Shed requests while the V8 heap holds more than this; unset: 90 % of V8's heap limit; 0 disables. */
  LOAD_SHED_MAX_HEAP_USED_BYTES: integer(0).optional(),
  /** Shed requests while the process's resident memory exceeds this; 0 (default) disables: set it below the container's limit. */
  LOAD_SHED_MAX_RSS_BYTES: integer(0).default(0),
  /** How often event-loop delay and memory are sampled. */
  LOAD_SHED_SAMPLE_INTERVAL_MS: integer(10, 60_000).default(1000),

  /** Identifies this instance in poll leases and logs. */
  INSTANCE_ID: z.string().min(1).default(`${os.hostname()}-${process.pid}`),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Longest a graceful shutdown may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: integer(100).default(10_000)
}).refine((env) => env.HTTP_HEADERS_TIMEOUT_MS <= env.HTTP_REQUEST_TIMEOUT_MS, {
  path: ['HTTP_HEADERS_TIMEOUT_MS'],
  message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS'
})

type Env = z.infer<typeof envSchema>

export interface Config {
  port: number
  host: string
  http: { requestTimeoutMs: number, headersTimeoutMs: number, connectionTimeoutMs: number, keepAliveTimeoutMs: number, maxHeaderBytes: number }
  databaseUrl: string | undefined
  databasePoolSize: number
  databaseStatementTimeoutMs: number
  databaseConnectionTimeoutMs: number
  mergeBatching: { maxBatchSize: number, maxConcurrentBatches: number }
  embeddedPostgres: { dataDir: string, port: number }
  apiKeys: readonly string[]
  rateLimit: { max: number, windowMs: number, redisUrl: string | undefined, redisKeyPrefix: string }
  gameso: {
    baseUrl: string
    apiKey: string | undefined
    webhookSecrets: readonly string[]
    signatureHeader: string
    maxRequestsPerSecond: number
    maxConcurrency: number
    timeoutMs: number
  }
  midasbuy: {
    baseUrl: string
    platformPublicKey: string | undefined
    signatureHeader: string
    appId: string | undefined
    /** PEM with real line breaks, checked at start. */
    merchantPrivateKey: string | undefined
    certSerialNo: string | undefined
    maxRequestsPerSecond: number
    maxConcurrency: number
    timeoutMs: number
    notFoundAnswers: ReadonlyArray<{ status: number, name: string }>
    signing: {
      urlForm: 'path' | 'absolute'
      authIdParameter: string
      /** Null leaves auth_id_type out. */
      authIdType: string | null
      quoteValues: boolean
    }
  }
  webhooks: { toleranceSeconds: number, bodyLimitBytes: number, inboxRetentionDays: number }
  reconcile: {
    enabled: boolean
    intervalMs: number
    staleAfterMs: number
    maxBackoffMs: number
    giveUpAfterMs: number
    batchSize: number
    notFoundLimit: number
  }
  /** Thresholds of load shedding; 0 disables one, null (heap) means 90 % of V8's heap limit. */
  loadShedding: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number | null, maxRssBytes: number, sampleIntervalMs: number }
  instanceId: string
  logLevel: Env['LOG_LEVEL']
  shutdownTimeoutMs: number
}

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
  if (SECRET_VARIABLES.has(name)) return `a ${value.length}-character value (hidden)`
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
  return JSON.stringify(shown)
}

function toConfig (env: Env): Config {
  return {
    port: env.PORT,
    host: env.HOST,
    http: {
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      connectionTimeoutMs: env.HTTP_CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderBytes: env.HTTP_MAX_HEADER_BYTES
    },
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseConnectionTimeoutMs: env.DATABASE_CONNECTION_TIMEOUT_MS,
    mergeBatching: { maxBatchSize: env.MERGE_BATCH_MAX_SIZE, maxConcurrentBatches: env.MERGE_BATCH_CONCURRENCY },
    embeddedPostgres: { dataDir: env.EMBEDDED_PG_DIR, port: env.EMBEDDED_PG_PORT },
    apiKeys: env.API_KEYS,
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS, redisUrl: env.REDIS_URL, redisKeyPrefix: env.RATE_LIMIT_REDIS_PREFIX },
    gameso: {
      baseUrl: env.GAMESO_BASE_URL,
      apiKey: env.GAMESO_API_KEY,
      webhookSecrets: env.GAMESO_WEBHOOK_SECRETS,
      signatureHeader: env.GAMESO_SIGNATURE_HEADER,
      maxRequestsPerSecond: env.GAMESO_MAX_REQUESTS_PER_SECOND,
      maxConcurrency: env.GAMESO_MAX_CONCURRENCY,
      timeoutMs: env.GAMESO_TIMEOUT_MS
    },
    midasbuy: {
      baseUrl: env.MIDASBUY_BASE_URL,
      platformPublicKey: env.MIDASBUY_PLATFORM_PUBLIC_KEY,
      signatureHeader: env.MIDASBUY_SIGNATURE_HEADER,
      appId: env.MIDASBUY_APP_ID,
      merchantPrivateKey: env.MIDASBUY_MERCHANT_PRIVATE_KEY,
      certSerialNo: env.MIDASBUY_CERT_SERIAL_NO,
      maxRequestsPerSecond: env.MIDASBUY_MAX_REQUESTS_PER_SECOND,
      maxConcurrency: env.MIDASBUY_MAX_CONCURRENCY,
      timeoutMs: env.MIDASBUY_TIMEOUT_MS,
      notFoundAnswers: env.MIDASBUY_NOT_FOUND_ERRORS,
      signing: {
        urlForm: env.MIDASBUY_SIGNATURE_URL_FORM,
        authIdParameter: env.MIDASBUY_SIGNATURE_AUTH_ID_PARAMETER,
        authIdType: env.MIDASBUY_SIGNATURE_AUTH_ID_TYPE === 'none' ? null : env.MIDASBUY_SIGNATURE_AUTH_ID_TYPE,
        quoteValues: env.MIDASBUY_SIGNATURE_QUOTE_VALUES
      }
    },
    webhooks: {
      toleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
      inboxRetentionDays: env.INBOX_RETENTION_DAYS
    },
    reconcile: {
      enabled: env.RECONCILE_ENABLED,
      intervalMs: env.RECONCILE_INTERVAL_MS,
      staleAfterMs: env.RECONCILE_STALE_AFTER_MS,
      maxBackoffMs: env.RECONCILE_MAX_BACKOFF_MS,
      giveUpAfterMs: env.RECONCILE_GIVE_UP_AFTER_MS,
      batchSize: env.RECONCILE_BATCH_SIZE,
      notFoundLimit: env.RECONCILE_NOT_FOUND_LIMIT
    },
    loadShedding: {
      maxEventLoopDelayMs: env.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: env.LOAD_SHED_MAX_HEAP_USED_BYTES ?? null,
      maxRssBytes: env.LOAD_SHED_MAX_RSS_BYTES,
      sampleIntervalMs: env.LOAD_SHED_SAMPLE_INTERVAL_MS
    },
    instanceId: env.INSTANCE_ID,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS
  }
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
export function parseConfig (env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {}
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') input[key] = value.trim()
  }
  const result = envSchema.safeParse(input)
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)')
      return `${name}: ${issue.message} (got ${describeShape(name, input[name])})`
    })
  problems.push(...missingCompanions(input))
  if (!result.success || problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(toConfig(result.data))
}

/** Reads `.env` when present (real environment variables win), then parses process.env. */
export function loadConfig (): Config {
  loadDotenv({ quiet: true })
  return parseConfig(process.env)
}

/** A copy of the configuration pointing at another database (used when one is started for us). */
export function withDatabaseUrl (config: Config, databaseUrl: string): Config {
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
  if (overrides.apiKeys) copy.apiKeys = [...overrides.apiKeys]
  if (overrides.gamesoWebhookSecrets) copy.gameso.webhookSecrets = [...overrides.gamesoWebhookSecrets]
  if (overrides.midasbuyPlatformPublicKey) copy.midasbuy.platformPublicKey = overrides.midasbuyPlatformPublicKey
  return deepFreeze(copy)
}
