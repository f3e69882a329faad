import { z } from 'zod'
import { isoTimestampSchema } from '../../domain/timestamp-schema.js'

// GameSO's order object as documented (upstream/gameso.md §3). Loose objects: GameSO may add
// fields and the mirror must keep working; every field the mirror stores is checked strictly.

/** GameSO statuses. `processing` is not in the retrievable docs but is expected between the two. */
export const GAMESO_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const
export type GameSoStatus = typeof GAMESO_STATUSES[number]

export const decimalStringSchema = z.string().regex(/^-?\d{1,18}(\.\d{1,8})?$/, 'expected a decimal string such as "500.00"')

const nullableText = z.string().nullable().optional()

export const gamesoOrderItemSchema = z.looseObject({
  sku: z.string().min(1).max(255),
  quantity: z.number().int().min(1).max(1_000_000),
  completed_quantity: z.number().int().min(0).max(1_000_000),
  failed_quantity: z.number().int().min(0).max(1_000_000),
  status: z.string().min(1).max(64),
  subtotal_amount: decimalStringSchema,
  discount_amount: decimalStringSchema,
  total_amount: decimalStringSchema,
  failure_code: nullableText,
  failure_message: nullableText
})

export const gamesoOrderSchema = z.looseObject({
  order_number: z.string().min(1).max(255),
  reference_id: z.string().min(1).max(255),
  user_id: z.string().min(1).max(255),
  server_id: nullableText,
  character_id: nullableText,
  status: z.enum(GAMESO_STATUSES),
  failure_code: nullableText,
  failure_message: nullableText,
  subtotal_amount: decimalStringSchema,
  discount_amount: decimalStringSchema,
  total_amount: decimalStringSchema,
  source_type: z.string().max(64).optional(),
  created_by: z.looseObject({ id: z.number().int(), name: z.string() }).optional(),
  created_at: isoTimestampSchema,
  updated_at: isoTimestampSchema,
  completed_at: isoTimestampSchema.nullable().optional(),
  items: z.array(gamesoOrderItemSchema).min(1).max(1000)
})

export type GameSoOrder = z.infer<typeof gamesoOrderSchema>
export type GameSoOrderItem = z.infer<typeof gamesoOrderItemSchema>

/** The webhook envelope. `data` is checked separately, and only for `order.*` events. */
export const gamesoWebhookEnvelopeSchema = z.looseObject({
  event: z.string().min(1).max(128),
  timestamp: z.number().int().nonnegative(),
  data: z.unknown()
})

export type GameSoWebhookEnvelope = z.infer<typeof gamesoWebhookEnvelopeSchema>

/** GameSO's error body `{status, code, message}`. */
export const gamesoErrorSchema = z.looseObject({
  status: z.number().int(),
  code: z.string(),
  message: z.string()
})
