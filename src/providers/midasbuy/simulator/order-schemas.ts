import { z } from 'zod'
import { expected, seedBatchOf } from '../../../simulator/parse-body.js'
import { MIDASBUY_STATUSES } from '../midasbuy-schemas.js'
import { CURRENCY_CODE, currencyScale, toMinorUnits } from './money.js'

// The control API's MidasBuy orders. MidasBuy has no merchant API that creates an order (a player
// buys on MidasBuy's own pages), so orders come into being here: bought now, or seeded as if
// bought earlier.

const text = (max: number) => z.string({ error: expected('a string') })
  .min(1, 'must not be empty')
  .max(max, `must be at most ${max} characters`)

const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }).transform((value) => Date.parse(value))

const itemSchema = z.object({
  product_id: text(255).default('com.games.abc.sku1'),
  /** Defaults to the product id, as in the docs' example. */
  game_product_id: text(255).optional(),
  quantity: z.number({ error: expected('an integer') }).int('must be an integer').min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(1),
  /** Any string: the docs' own example uses VIRTUAL_GOOD, outside the documented enum. */
  product_type: text(64).default('VIRTUAL_CURRENCY'),
  /** Price of one unit in the order's currency, at most as many decimals as it has; unset, 99 minor units. */
  price: z.string({ error: expected('a decimal string') }).optional()
}, { error: expected('an object') })

const orderFields = {
  payment_order_id: text(255).optional(),
  user_id: text(255).default('sim-user'),
  server_id: text(255).default('1'),
  currency: z.string({ error: expected('a string') }).regex(CURRENCY_CODE, 'must be an ISO-4217 code such as "USD"').default('USD'),
  items: z.array(itemSchema, { error: expected('an array') }).min(1, 'must contain at least 1 item').max(100, 'must contain at most 100 items').prefault([{}]),
  shop_region: text(64).default('US'),
  payment_channel: text(128).default('CREDIT_CARD'),
  /** Whether a Finished order is later Refunded; unset, drawn with the refundRate setting. */
  refund: z.boolean({ error: expected('a boolean') }).optional(),
  /** A non-final order moves on with the timer unless this is false. */
  progress: z.boolean({ error: expected('a boolean') }).default(true)
}

/** Every item's price must be an amount of the order's currency, with no more decimals than it has. */
function pricesFitCurrency (order: { currency: string, items: ReadonlyArray<{ price?: string | undefined }> }, context: z.RefinementCtx): void {
  const scale = currencyScale(order.currency)
  order.items.forEach((item, index) => {
    if (item.price !== undefined && toMinorUnits(item.price, scale) === null) {
      context.addIssue({ code: 'custom', path: ['items', index, 'price'], message: `must be an amount of ${order.currency} with at most ${scale} decimals` })
    }
  })
}

/** POST /_control/midasbuy/purchases: a player buys now; the order starts Created and notifies. */
export const purchaseSchema = z.object({
  ...orderFields,
  send_notifications: z.boolean({ error: expected('a boolean') }).default(true)
}).superRefine(pricesFitCurrency)

export type PurchaseInput = z.input<typeof purchaseSchema>

/**
 * POST /_control/midasbuy/orders: an order that exists upstream as if bought earlier. Silent
 * unless `send_notifications`: a seed stands for a notification that never came.
 */
export const seedOrderSchema = z.object({
  ...orderFields,
  status: z.enum(MIDASBUY_STATUSES, { error: `must be one of ${MIDASBUY_STATUSES.join(', ')}` }).default('Finished'),
  create_time: timestamp.optional(),
  update_time: timestamp.optional(),
  send_notifications: z.boolean({ error: expected('a boolean') }).default(false)
}).superRefine(pricesFitCurrency)

export type SeedOrder = z.output<typeof seedOrderSchema>
export type SeedOrderInput = z.input<typeof seedOrderSchema>
export type NewOrder = z.output<typeof purchaseSchema>

export const seedBatchSchema = seedBatchOf(seedOrderSchema)
