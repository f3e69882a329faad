import { z } from 'zod'
import type { FaultsInput } from './faults.js'

// Building blocks for each simulated upstream's options and SIMULATOR_* variables.

export type EnvParser = (text: string) => unknown

/** A variable and the option path it sets, e.g. `['SIMULATOR_DROP_RATE', ['faults', 'dropRate'], asNumber]`. */
export type EnvironmentOption = readonly [variable: string, path: readonly string[], parse: EnvParser]

export const asNumber: EnvParser = (text) => Number(text)
export const asText: EnvParser = (text) => text
export const asList: EnvParser = (text) => text.split(',').map((part) => part.trim()).filter(Boolean)
export const asNumberList: EnvParser = (text) => (asList(text) as string[]).map(Number)
export const asBoolean: EnvParser = (text) => ({ true: true, 1: true, yes: true, false: false, 0: false, no: false } as Record<string, boolean>)[text.toLowerCase()] ?? text

export const millis = (fallback: number) => z.number().int().min(0).max(86_400_000).default(fallback)

/** Where webhooks go; each URL gets every event, like several webhook configs upstream. */
export const webhookUrlsSchema = z.array(z.url({ protocol: /^https?$/ })).default([])

export const webhookTimeoutMsSchema = z.number().int().min(1).max(600_000).default(10_000)

export const headerNameSchema = (fallback: string) => z.string().regex(/^[A-Za-z0-9-]+$/).transform((name) => name.toLowerCase()).default(fallback)

const FAULT_VARIABLES: ReadonlyArray<readonly [suffix: string, fault: keyof FaultsInput, parse: EnvParser]> = [
  ['DROP_RATE', 'dropRate', asNumber],
  ['DUPLICATE_RATE', 'duplicateRate', asNumber],
  ['REORDER', 'reorder', asBoolean],
  ['REORDER_WINDOW_MS', 'reorderWindowMs', asNumber],
  ['WEBHOOK_DELAY_MS', 'delayMs', asNumber],
  ['ERROR_RATE', 'errorRate', asNumber],
  ['RATE_LIMITED_RATE', 'rateLimitedRate', asNumber],
  ['RETRY_AFTER_SECONDS', 'retryAfterSeconds', asNumber],
  ['SLOW_MS', 'slowMs', asNumber],
  ['SLOW_RATE', 'slowRate', asNumber],
  ['MAX_RPS', 'maxRequestsPerSecond', asNumber],
  ['DOWN_FOR_MS', 'downForMs', asNumber]
]

/** The fault variables under `prefix`, the same set for every upstream (`SIMULATOR_DROP_RATE` …). */
export function faultEnvironment (prefix: string): EnvironmentOption[] {
  return FAULT_VARIABLES.map(([suffix, fault, parse]) => [`${prefix}${suffix}`, ['faults', fault], parse])
}

/** The runtime-changeable part of parsed options: one live object the upstream reads from. */
export function liveSettings<Schema extends z.ZodObject> (schema: Schema, options: z.output<Schema> & object): z.output<Schema> {
  const values = options as Record<string, unknown>
  return Object.fromEntries(Object.keys(schema.shape).map((key) => [key, values[key]])) as z.output<Schema>
}
