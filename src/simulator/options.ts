import { z } from 'zod'
import { catalogEntrySchema, DEFAULT_CATALOG, parseSkuList } from './catalog.js'
import { faultsSchema } from './faults.js'
import { ORDER_STATUSES } from './order.js'
import { patchSchemaOf } from './patch-schema.js'

const millis = (fallback: number) => z.number().int().min(0).max(86_400_000).default(fallback)

/** What may change while the simulator runs (POST /_control/settings); the rest is fixed at start. */
export const settingsSchema = z.object({
  /** Where webhooks go; each URL gets every event, like several GameSO webhook configs. */
  webhookUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** HMAC-SHA256 key; unset sends webhooks without a signature header. */
  webhookSecret: z.string().min(1).nullable().default(null),
  signatureHeader: z.string().regex(/^[A-Za-z0-9-]+$/).transform((name) => name.toLowerCase()).default('x-gameso-signature'),
  signaturePrefix: z.string().max(32).default(''),
  webhookEvents: z.array(z.enum(ORDER_STATUSES)).default(['completed', 'failed']),
  /** GameSO's webhook config `max_retries`. */
  maxRetries: z.number().int().min(0).max(100).default(3),
  /** GameSO's `retry_delay` (60 s in its example), in milliseconds here so tests can shorten it. */
  retryDelayMs: millis(60_000),
  webhookTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** pending → processing. */
  processingDelayMs: millis(1000),
  /** processing → completed | failed. */
  completionDelayMs: millis(1000),
  /** Off: orders stay where they are until POST /_control/orders/:reference_id/advance. */
  autoProgress: z.boolean().default(true),
  /** Chance an item line fails, for SKUs without a failureRate of their own. */
  itemFailureRate: z.number().min(0).max(1).default(0.05)
})

export type Settings = z.output<typeof settingsSchema>
export const settingsPatchSchema = patchSchemaOf(settingsSchema)

export const simulatorOptionsSchema = settingsSchema.extend({
  /** The only X-API-Key the API accepts. */
  apiKey: z.string().min(1).default('sim_api_key'),
  /** Seeds order numbers, outcomes and faults; unset picks one (reported in the start log). */
  seed: z.number().int().min(0).max(0xffff_ffff).default(() => Math.floor(Math.random() * 0xffff_ffff)),
  /** Replaces the built-in catalog. */
  catalog: z.array(catalogEntrySchema).min(1).prefault(() => [...DEFAULT_CATALOG]),
  /** Added to the catalog, replacing entries with the same SKU. */
  extraSkus: z.array(catalogEntrySchema).default([]),
  faults: faultsSchema.prefault({})
})

export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>
export type SimulatorOptions = z.output<typeof simulatorOptionsSchema>

export class SimulatorConfigError extends Error {
  constructor (readonly problems: readonly string[]) {
    super(`Invalid simulator configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'SimulatorConfigError'
  }
}

type EnvParser = (text: string) => unknown

const asNumber: EnvParser = (text) => Number(text)
const asText: EnvParser = (text) => text
const asList: EnvParser = (text) => text.split(',').map((part) => part.trim()).filter(Boolean)
const asBoolean: EnvParser = (text) => ({ true: true, 1: true, yes: true, false: false, 0: false, no: false } as Record<string, boolean>)[text.toLowerCase()] ?? text

/** Environment variable → option path. cli.ts documents each of them. */
const ENV_OPTIONS: ReadonlyArray<readonly [string, readonly string[], EnvParser]> = [
  ['SIMULATOR_API_KEY', ['apiKey'], asText],
  ['SIMULATOR_SEED', ['seed'], asNumber],
  ['SIMULATOR_EXTRA_SKUS', ['extraSkus'], parseSkuList],
  ['SIMULATOR_WEBHOOK_URL', ['webhookUrls'], asList],
  ['SIMULATOR_WEBHOOK_SECRET', ['webhookSecret'], asText],
  ['SIMULATOR_SIGNATURE_HEADER', ['signatureHeader'], asText],
  ['SIMULATOR_SIGNATURE_PREFIX', ['signaturePrefix'], asText],
  ['SIMULATOR_WEBHOOK_EVENTS', ['webhookEvents'], asList],
  ['SIMULATOR_WEBHOOK_MAX_RETRIES', ['maxRetries'], asNumber],
  ['SIMULATOR_WEBHOOK_RETRY_DELAY_MS', ['retryDelayMs'], asNumber],
  ['SIMULATOR_WEBHOOK_TIMEOUT_MS', ['webhookTimeoutMs'], asNumber],
  ['SIMULATOR_PROCESSING_DELAY_MS', ['processingDelayMs'], asNumber],
  ['SIMULATOR_COMPLETION_DELAY_MS', ['completionDelayMs'], asNumber],
  ['SIMULATOR_AUTO_PROGRESS', ['autoProgress'], asBoolean],
  ['SIMULATOR_ITEM_FAILURE_RATE', ['itemFailureRate'], asNumber],
  ['SIMULATOR_DROP_RATE', ['faults', 'dropRate'], asNumber],
  ['SIMULATOR_DUPLICATE_RATE', ['faults', 'duplicateRate'], asNumber],
  ['SIMULATOR_REORDER', ['faults', 'reorder'], asBoolean],
  ['SIMULATOR_REORDER_WINDOW_MS', ['faults', 'reorderWindowMs'], asNumber],
  ['SIMULATOR_WEBHOOK_DELAY_MS', ['faults', 'delayMs'], asNumber],
  ['SIMULATOR_ERROR_RATE', ['faults', 'errorRate'], asNumber],
  ['SIMULATOR_RATE_LIMITED_RATE', ['faults', 'rateLimitedRate'], asNumber],
  ['SIMULATOR_RETRY_AFTER_SECONDS', ['faults', 'retryAfterSeconds'], asNumber],
  ['SIMULATOR_SLOW_MS', ['faults', 'slowMs'], asNumber],
  ['SIMULATOR_SLOW_RATE', ['faults', 'slowRate'], asNumber],
  ['SIMULATOR_MAX_RPS', ['faults', 'maxRequestsPerSecond'], asNumber],
  ['SIMULATOR_DOWN_FOR_MS', ['faults', 'downForMs'], asNumber]
]

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const processSchema = z.object({
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SIMULATOR_LOG_LEVEL: z.enum(LOG_LEVELS).default('info')
})

export interface SimulatorProcessConfig {
  host: string
  port: number
  logLevel: typeof LOG_LEVELS[number]
  options: SimulatorOptions
}

function setPath (target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path
  if (head === undefined) return
  if (rest.length === 0) {
    target[head] = value
    return
  }
  target[head] ??= {}
  setPath(target[head] as Record<string, unknown>, rest, value)
}

/**
 * The simulator process's configuration from SIMULATOR_* variables; empty values count as unset.
 * Throws SimulatorConfigError naming every bad variable.
 */
export function simulatorConfigFromEnv (env: Record<string, string | undefined>): SimulatorProcessConfig {
  const present = (name: string) => {
    const value = env[name]?.trim()
    return value || undefined
  }
  const input: Record<string, unknown> = {}
  const variableFor = new Map<string, string>()
  for (const [name, path, parse] of ENV_OPTIONS) {
    const value = present(name)
    variableFor.set(path.join('.'), name)
    if (value !== undefined) setPath(input, path, parse(value))
  }
  const processInput = Object.fromEntries(Object.keys(processSchema.shape).flatMap((name) => {
    const value = present(name)
    return value === undefined ? [] : [[name, value]]
  }))
  const options = simulatorOptionsSchema.safeParse(input)
  const processed = processSchema.safeParse(processInput)
  if (!options.success || !processed.success) {
    const optionProblems = (options.error?.issues ?? []).map((issue) => {
      const path = issue.path.map(String)
      const name = variableFor.get(path.slice(0, 2).join('.')) ?? variableFor.get(path.slice(0, 1).join('.')) ?? path.join('.')
      return `${name}: ${issue.message}`
    })
    const processProblems = (processed.error?.issues ?? []).map((issue) => `${String(issue.path[0])}: ${issue.message}`)
    throw new SimulatorConfigError([...optionProblems, ...processProblems])
  }
  return {
    host: processed.data.SIMULATOR_HOST,
    port: processed.data.SIMULATOR_PORT,
    logLevel: processed.data.SIMULATOR_LOG_LEVEL,
    options: options.data
  }
}
