import { z } from 'zod'
import { isoTimestampSchema } from '../../domain/timestamp-schema.js'

// MidasBuy's OrderQuery order and webhook envelope (upstream/midasbuy.md §2, §4.2). Loose objects:
// MidasBuy may add fields and the mirror must keep working; every field the mirror stores is
// checked. Enum values MidasBuy may extend (product_type) are accepted as any string, since the
// docs' own example already uses one outside the documented enum.

/** The statuses the mirror merges. `UNDEFINED` (the enum's zero value) says nothing about an order: invalid. */
export const MIDASBUY_STATUSES = ['Created', 'Paid', 'Finished', 'Refunded'] as const
export type MidasBuyStatus = typeof MIDASBUY_STATUSES[number]

/**
 * MidasBuy's amount regex `^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`, bounded. The scale follows the
 * currency (JPY "100", TND "100.123") and is stored as sent.
 */
export const midasbuyAmountSchema = z.string().regex(/^-?(\d{1,30}|\d{0,30}\.\d{1,12})$/, 'expected a decimal string such as "9.99"')

const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 currency code such as "USD"')

export const midasbuyPriceSchema = z.looseObject({
  currency: currencySchema,
  amount: midasbuyAmountSchema
})

export const midasbuyOrderItemSchema = z.looseObject({
  product_id: z.string().min(1).max(255),
  game_product_id: z.string().min(1).max(255),
  quantity: z.string().regex(/^\d{1,9}$/, 'expected a whole number as a string such as "1"'),
  product_type: z.string().min(1).max(64),
  price: midasbuyPriceSchema
})

export const midasbuyOrderSchema = z.looseObject({
  app_id: z.string().min(1).max(255),
  create_time: isoTimestampSchema,
  update_time: isoTimestampSchema,
  user_id: z.string().min(1).max(255),
  payment_order_id: z.string().min(1).max(255),
  server_id: z.string().max(255),
  order_status: z.enum(MIDASBUY_STATUSES),
  order_items: z.array(midasbuyOrderItemSchema).min(1).max(1000),
  total_price: midasbuyPriceSchema,
  shop_region: z.string().max(64).optional(),
  payment_channel: z.string().max(128).optional()
})

export type MidasBuyOrder = z.infer<typeof midasbuyOrderSchema>

/**
 * The envelope all four MidasBuy webhooks share. Only `id` and `resource` are required: the
 * mirror uses nothing else, and the docs leave the values of event_type and resource_type
 * unstated, so refusing on them could refuse a genuine notification for nine days of retries.
 */
export const midasbuyWebhookEnvelopeSchema = z.looseObject({
  id: z.string().min(1).max(255),
  create_time: z.string().max(64).optional(),
  update_time: z.string().max(64).optional(),
  event_type: z.string().max(128).optional(),
  event_version: z.string().max(64).optional(),
  resource_type: z.string().max(128).optional(),
  resource_version: z.string().max(64).optional(),
  summary: z.string().max(4096).optional(),
  resource: z.record(z.string(), z.unknown())
})

export type MidasBuyWebhookEnvelope = z.infer<typeof midasbuyWebhookEnvelopeSchema>

/**
 * Whether a resource is a payment order notification. The docs do not give event_type values,
 * so the resource's own shape decides: a payment order carries both payment_order_id and
 * order_status; a promotion notification has promotion_order_id and no order_status.
 */
export function isPaymentOrderResource (resource: Record<string, unknown>): boolean {
  return 'payment_order_id' in resource && 'order_status' in resource
}

/**
 * MidasBuy's error body (upstream/midasbuy.md §2): only `name` is required; the rest is kept for
 * diagnosis. Loose, and bounded so an odd answer cannot flood a log line.
 */
export const midasbuyErrorSchema = z.looseObject({
  name: z.string().min(1).max(128),
  message: z.string().max(4096).optional(),
  details: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
  debug_id: z.string().max(255).optional(),
  causes: z.array(z.looseObject({ cause: z.string().max(4096).optional(), solution: z.string().max(4096).optional() })).max(50).optional(),
  links: z.array(z.unknown()).max(50).optional()
})

export type MidasBuyErrorBody = z.infer<typeof midasbuyErrorSchema>
