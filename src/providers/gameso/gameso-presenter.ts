import { z } from 'zod'
import type { StoredOrder, StoredOrderItem } from '../../domain/stored-order.js'
import { GAMESO_CURRENCY } from './gameso-mapping.js'

// Stored rows → GameSO's own get-order JSON (upstream/gameso.md §3). Keys follow the order of
// the get-order example in GameSO's docs. A value the mirror does not know yet — an order recorded
// locally (create, track) that GameSO has not reported on — is null rather than invented.

const moneySchema = z.string().nullable().describe('Decimal string, two places for THB ("500.00"); null until GameSO has reported the order')
const timestampSchema = z.string().describe('ISO-8601 UTC with milliseconds, e.g. 2025-01-15T10:30:00.000Z')

export const gamesoOrderItemResponseSchema = z.object({
  sku: z.string().nullable(),
  quantity: z.number().int(),
  completed_quantity: z.number().int().nullable(),
  failed_quantity: z.number().int().nullable(),
  status: z.string().nullable(),
  subtotal_amount: moneySchema,
  discount_amount: moneySchema,
  total_amount: moneySchema,
  failure_code: z.string().nullable(),
  failure_message: z.string().nullable()
})

export const gamesoOrderResponseSchema = z.object({
  order_number: z.string().nullable().describe("GameSO's own order id; null until GameSO has reported the order"),
  reference_id: z.string(),
  user_id: z.string().nullable(),
  server_id: z.string().nullable(),
  character_id: z.string().nullable(),
  status: z.string().describe('pending | processing | completed | failed'),
  subtotal_amount: moneySchema,
  discount_amount: moneySchema,
  total_amount: moneySchema.describe('Order total in THB'),
  source_type: z.string().nullable(),
  created_by: z.looseObject({ id: z.number(), name: z.string() }).nullable(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  completed_at: timestampSchema.optional().describe('Present only once the order has completed, as in GameSO'),
  failure_code: z.string().nullable(),
  failure_message: z.string().nullable(),
  items: z.array(gamesoOrderItemResponseSchema)
}).describe('A GameSO order, in the exact shape of GameSO\'s GET /v1/orders/{reference_id}')

export type GameSoOrderResponse = z.infer<typeof gamesoOrderResponseSchema>
export type GameSoOrderItemResponse = z.infer<typeof gamesoOrderItemResponseSchema>

/**
 * GameSO writes baht with exactly two decimals. PostgreSQL keeps the scale a snapshot arrived
 * with, so pad a shorter one ("500" → "500.00") and never round a longer one: money stays exact.
 * A library would parse to a number and back; plain string padding is exact and allocation-light.
 */
export function formatMoney (value: string | null, currency: string | null): string | null {
  if (value === null || currency !== GAMESO_CURRENCY) return value
  const dot = value.indexOf('.')
  if (dot === -1) return `${value}.00`
  const decimals = value.length - dot - 1
  return decimals >= 2 ? value : value + '0'.repeat(2 - decimals)
}

function presentItem (item: StoredOrderItem, currency: string | null): GameSoOrderItemResponse {
  return {
    sku: item.sku,
    quantity: item.quantity,
    completed_quantity: item.completedQuantity,
    failed_quantity: item.failedQuantity,
    status: item.status,
    subtotal_amount: formatMoney(item.subtotalAmount, currency),
    discount_amount: formatMoney(item.discountAmount, currency),
    total_amount: formatMoney(item.totalAmount, currency),
    failure_code: item.failureCode,
    failure_message: item.failureMessage
  }
}

/**
 * One stored order as GameSO returns it. Timestamps fall back to the mirror's own record times
 * while GameSO has not reported the order, so clients that parse them keep working.
 */
export function presentGameSoOrder (order: StoredOrder): GameSoOrderResponse {
  return {
    order_number: order.providerOrderId,
    reference_id: order.reference,
    user_id: order.userId,
    server_id: order.serverId,
    character_id: order.characterId,
    status: order.status,
    subtotal_amount: formatMoney(order.subtotalAmount, order.currency),
    discount_amount: formatMoney(order.discountAmount, order.currency),
    total_amount: formatMoney(order.totalAmount, order.currency),
    source_type: order.sourceType,
    created_by: order.createdBy,
    created_at: (order.upstreamCreatedAt ?? order.createdAt).toISOString(),
    updated_at: (order.upstreamUpdatedAt ?? order.updatedAt).toISOString(),
    ...(order.completedAt === null ? {} : { completed_at: order.completedAt.toISOString() }),
    failure_code: order.failureCode,
    failure_message: order.failureMessage,
    items: order.items.map((item) => presentItem(item, order.currency))
  }
}
