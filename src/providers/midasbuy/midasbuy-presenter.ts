import { z } from 'zod'
import type { StoredOrder } from '../../domain/stored-order.js'

// Stored rows → MidasBuy's own OrderQuery JSON (upstream/midasbuy.md §2), keys in the docs' order.

const priceSchema = z.object({
  currency: z.string().nullable(),
  amount: z.string().nullable().describe('Decimal string with the currency\'s own scale, exactly as MidasBuy sent it ("100", "100.123", "9.99")')
})

const timestampSchema = z.string().describe('RFC 3339 UTC, e.g. 2021-11-08T05:45:20Z (milliseconds only when there are any)')

export const midasbuyOrderResponseSchema = z.object({
  app_id: z.string().nullable(),
  create_time: timestampSchema.nullable(),
  update_time: timestampSchema,
  user_id: z.string().nullable(),
  payment_order_id: z.string(),
  server_id: z.string().nullable(),
  order_status: z.string().describe('Created | Paid | Finished | Refunded'),
  order_items: z.array(z.object({
    product_id: z.string().nullable(),
    game_product_id: z.string().nullable(),
    quantity: z.string().describe('Digit string, as MidasBuy writes it'),
    product_type: z.string().nullable(),
    price: priceSchema
  })),
  total_price: priceSchema,
  shop_region: z.string().nullable(),
  payment_channel: z.string().nullable()
}).describe('A MidasBuy payment order, in the shape of MidasBuy\'s OrderQuery answer')

export type MidasBuyOrderResponse = z.infer<typeof midasbuyOrderResponseSchema>

/** MidasBuy writes Go's RFC 3339 layout, which has no fraction; keep one only when it says something. */
export function formatMidasBuyTime (value: Date): string {
  return value.toISOString().replace('.000Z', 'Z')
}

function attribute (attributes: Record<string, unknown> | null | undefined, name: string): string | null {
  const value = attributes?.[name]
  return typeof value === 'string' ? value : null
}

/**
 * Only an order MidasBuy itself has reported has an answer: a placeholder (tracked, not yet
 * polled) has nothing of MidasBuy's to show, and the routes treat it as not found.
 */
export function isPresentableMidasBuyOrder (order: StoredOrder): order is StoredOrder & { upstreamUpdatedAt: Date } {
  return order.upstreamUpdatedAt !== null
}

export function presentMidasBuyOrder (order: StoredOrder & { upstreamUpdatedAt: Date }): MidasBuyOrderResponse {
  return {
    app_id: attribute(order.providerAttributes, 'app_id'),
    create_time: order.upstreamCreatedAt === null ? null : formatMidasBuyTime(order.upstreamCreatedAt),
    update_time: formatMidasBuyTime(order.upstreamUpdatedAt),
    user_id: order.userId,
    payment_order_id: order.reference,
    server_id: order.serverId,
    order_status: order.providerStatus,
    order_items: order.items.map((item) => ({
      product_id: item.productId ?? null,
      game_product_id: item.gameProductId ?? null,
      quantity: String(item.quantity),
      product_type: item.productType ?? null,
      price: { currency: item.currency ?? null, amount: item.priceAmount ?? null }
    })),
    total_price: { currency: order.currency, amount: order.totalAmount },
    shop_region: attribute(order.providerAttributes, 'shop_region'),
    payment_channel: attribute(order.providerAttributes, 'payment_channel')
  }
}

/** MidasBuy's error body (upstream/midasbuy.md §2): `name` is the code, `debug_id` the id to quote. */
export const midasbuyErrorResponseSchema = z.object({
  name: z.string().describe('INVALID_ARGUMENT, UNAUTHENTICATED, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL'),
  message: z.string(),
  debug_id: z.string().describe('The mirror\'s request id: quote it when reporting a problem')
}).describe('An error in MidasBuy\'s shape')

export type MidasBuyErrorResponse = z.infer<typeof midasbuyErrorResponseSchema>

/**
 * MidasBuy names only INVALID_ARGUMENT in its docs; the other names follow the same (gRPC-style)
 * family, chosen by the HTTP status the mirror answers with.
 */
const ERROR_NAME_BY_STATUS: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED'
}

export function presentMidasBuyError (status: number, message: string, debugId: string): MidasBuyErrorResponse {
  const name = ERROR_NAME_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT')
  return { name, message, debug_id: debugId }
}
