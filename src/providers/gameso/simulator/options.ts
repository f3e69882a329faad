import { z } from 'zod'
import { faultsSchema } from '../../../simulator/faults.js'
import {
  asBoolean, asList, asNumber, asText, faultEnvironment, headerNameSchema, millis, webhookTimeoutMsSchema, webhookUrlsSchema,
  type EnvironmentOption
} from '../../../simulator/personality-options.js'
import { catalogEntrySchema, DEFAULT_CATALOG, parseSkuList } from './catalog.js'
import { ORDER_STATUSES } from './order.js'

/** What may change while the simulator runs (POST /_control/settings); the rest is fixed at start. */
export const settingsSchema = z.object({
  webhookUrls: webhookUrlsSchema,
  /** HMAC-SHA256 key; unset sends webhooks without a signature header. */
  webhookSecret: z.string().min(1).nullable().default(null),
  signatureHeader: headerNameSchema('x-gameso-signature'),
  signaturePrefix: z.string().max(32).default(''),
  webhookEvents: z.array(z.enum(ORDER_STATUSES)).default(['completed', 'failed']),
  /** GameSO's webhook config `max_retries`. */
  maxRetries: z.number().int().min(0).max(100).default(3),
  /** GameSO's `retry_delay` (60 s in its example), in milliseconds here so tests can shorten it. */
  retryDelayMs: millis(60_000),
  webhookTimeoutMs: webhookTimeoutMsSchema,
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

export const optionsSchema = settingsSchema.extend({
  /** The only X-API-Key the API accepts. */
  apiKey: z.string().min(1).default('sim_api_key'),
  /** Replaces the built-in catalog. */
  catalog: z.array(catalogEntrySchema).min(1).prefault(() => [...DEFAULT_CATALOG]),
  /** Added to the catalog, replacing entries with the same SKU. */
  extraSkus: z.array(catalogEntrySchema).default([]),
  faults: faultsSchema.prefault({})
})

export type GameSoSimulatorOptions = z.output<typeof optionsSchema>

/** Environment variable → option path; the simulator README lists each of them. */
export const environment: readonly EnvironmentOption[] = [
  ['SIMULATOR_API_KEY', ['apiKey'], asText],
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
  ...faultEnvironment('SIMULATOR_')
]
