import { z } from 'zod'
import { expected, seedBatchOf } from '../../../simulator/parse-body.js'
import { ORDER_STATUSES } from './order.js'

// Error text in GameSO's voice: the field first, e.g. "reference_id is required".

const text = (max: number) => z.string({ error: expected('a string') })
  .min(1, 'must not be empty')
  .max(max, `must be at most ${max} characters`)

const optionalText = text(255).nullish().transform((value) => value ?? null)

const quantity = z.number({ error: expected('an integer') })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(100_000, 'must be at most 100000')

const count = z.number({ error: expected('an integer') }).int('must be an integer').min(0, 'must be at least 0')

const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }).transform((value) => Date.parse(value))

const itemsOf = <T extends z.ZodType>(item: T) => z.array(item, { error: expected('an array') })
  .min(1, 'must contain at least 1 item')
  .max(100, 'must contain at most 100 items')

/** POST /v1/orders, as GameSO documents it; unknown fields are ignored. */
export const createOrderBodySchema = z.object({
  reference_id: text(255),
  user_id: text(255),
  items: itemsOf(z.object({ sku: text(100), quantity: quantity.default(1) }, { error: expected('an object') })),
  server_id: optionalText,
  character_id: optionalText
})

export type CreateOrderBody = z.output<typeof createOrderBodySchema>

const seedItemSchema = z.object({
  sku: text(100),
  quantity: quantity.default(1),
  completed_quantity: count.optional(),
  failed_quantity: count.optional(),
  failure_code: text(100).optional(),
  failure_message: text(500).optional()
}, { error: expected('an object') })

/**
 * POST /_control/orders: an order that exists upstream as if it had been created earlier. Item
 * counts, when given, are the outcome; `status` defaults to completed.
 */
export const seedOrderSchema = z.object({
  reference_id: text(255),
  user_id: text(255).default('sim-user'),
  server_id: optionalText,
  character_id: optionalText,
  status: z.enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` }).default('completed'),
  items: itemsOf(seedItemSchema).default([{ sku: 'DIAMOND_100', quantity: 1 }]),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
  /** Seeded orders stand for missed webhooks: silent unless this is true. */
  send_webhooks: z.boolean({ error: expected('a boolean') }).default(false),
  /** A non-final seed moves on with the timer unless this is false. */
  progress: z.boolean({ error: expected('a boolean') }).default(true)
})

export type SeedOrder = z.output<typeof seedOrderSchema>
export type SeedOrderInput = z.input<typeof seedOrderSchema>

export const seedBatchSchema = seedBatchOf(seedOrderSchema)
