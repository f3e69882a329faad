import { formatSatang, type CatalogEntry } from './catalog.js'
import type { Random } from '../../../simulator/random.js'

export const ORDER_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const
export type OrderStatus = typeof ORDER_STATUSES[number]

export function isFinal (status: OrderStatus): boolean {
  return status === 'completed' || status === 'failed'
}

export interface Failure {
  code: string
  message: string
}

/** The only failure GameSO's docs show, on items and (copied) on the order. */
export const ITEM_NOT_FOUND: Failure = { code: 'ITEM_NOT_FOUND', message: 'Product SKU not found in provider system' }

/** How an item will end, decided when the order is created so a seed reproduces it. */
export interface ItemPlan {
  failedQuantity: number
  failure: Failure
}

export interface SimItem {
  sku: string
  quantity: number
  unitPriceSatang: number
  unitDiscountSatang: number
  plan: ItemPlan
  completedQuantity: number
  failedQuantity: number
  status: OrderStatus
}

export interface SimOrder {
  orderNumber: string
  referenceId: string
  userId: string
  serverId: string | null
  characterId: string | null
  status: OrderStatus
  items: SimItem[]
  createdAtMs: number
  updatedAtMs: number
  completedAtMs: number | null
  /** Seeded orders stand for "webhook never came" and stay silent unless asked otherwise. */
  sendWebhooks: boolean
  /** Whether the timer moves this order on (control `advance` always can). */
  autoProgress: boolean
}

/** GameSO's item JSON, keys in the order of the docs' webhook examples (test/fixtures/gameso). */
export interface GameSoItem {
  sku: string
  quantity: number
  completed_quantity: number
  failed_quantity: number
  subtotal_amount: string
  discount_amount: string
  total_amount: string
  status: OrderStatus
  failure_code: string | null
  failure_message: string | null
}

/** GameSO's order JSON (get-order, create answer and webhook `data`), keys in the docs' order. */
export interface GameSoOrder {
  order_number: string
  reference_id: string
  user_id: string
  server_id: string | null
  character_id: string | null
  status: OrderStatus
  failure_code: string | null
  failure_message: string | null
  subtotal_amount: string
  discount_amount: string
  total_amount: string
  created_at: string
  updated_at: string
  source_type: 'api'
  created_by: { id: number, name: string }
  completed_at?: string
  items: GameSoItem[]
}

/**
 * Failure rule: an unavailable SKU fails every unit; otherwise the line fails with the SKU's
 * failureRate (or the simulator-wide rate) and then loses a random 1 … quantity units, so a
 * quantity of 5 may end 3 completed / 2 failed. Any failed unit makes the item `failed`.
 */
export function planItem (entry: CatalogEntry, quantity: number, random: Random, defaultFailureRate: number): ItemPlan {
  if (entry.unavailable) return { failedQuantity: quantity, failure: ITEM_NOT_FOUND }
  const fails = random.chance(entry.failureRate ?? defaultFailureRate)
  return { failedQuantity: fails ? random.int(1, quantity) : 0, failure: ITEM_NOT_FOUND }
}

export function newItem (entry: CatalogEntry, quantity: number, plan: ItemPlan): SimItem {
  return {
    sku: entry.sku,
    quantity,
    unitPriceSatang: entry.priceSatang,
    unitDiscountSatang: entry.discountSatang,
    plan,
    completedQuantity: 0,
    failedQuantity: 0,
    status: 'pending'
  }
}

/** The status the order moves to next; undefined once final. */
export function nextStatus (order: SimOrder): OrderStatus | undefined {
  if (order.status === 'pending') return 'processing'
  if (order.status === 'processing') return order.items.some((item) => item.plan.failedQuantity > 0) ? 'failed' : 'completed'
  return undefined
}

/** Moves the order to `status` at `atMs`; a final status reveals the planned item outcome. */
export function applyStatus (order: SimOrder, status: OrderStatus, atMs: number): void {
  order.status = status
  order.updatedAtMs = atMs
  const final = isFinal(status)
  for (const item of order.items) {
    item.failedQuantity = final ? item.plan.failedQuantity : 0
    item.completedQuantity = final ? item.quantity - item.plan.failedQuantity : 0
    item.status = final ? (item.failedQuantity > 0 ? 'failed' : 'completed') : status
  }
  order.completedAtMs = status === 'completed' ? atMs : null
}

function iso (ms: number): string {
  return new Date(ms).toISOString()
}

function toGameSoItem (item: SimItem): GameSoItem {
  const subtotal = item.unitPriceSatang * item.quantity
  const discount = item.unitDiscountSatang * item.quantity
  const failed = item.status === 'failed'
  return {
    sku: item.sku,
    quantity: item.quantity,
    completed_quantity: item.completedQuantity,
    failed_quantity: item.failedQuantity,
    subtotal_amount: formatSatang(subtotal),
    discount_amount: formatSatang(discount),
    total_amount: formatSatang(subtotal - discount),
    status: item.status,
    failure_code: failed ? item.plan.failure.code : null,
    failure_message: failed ? item.plan.failure.message : null
  }
}

/**
 * The order as GameSO shows it. Amounts are what was ordered (failed units are not deducted: the
 * docs show no refund fields). The order's failure copies the first failed item's, as in the docs.
 */
export function toGameSoOrder (order: SimOrder): GameSoOrder {
  const items = order.items.map(toGameSoItem)
  let subtotal = 0
  let discount = 0
  for (const item of order.items) {
    subtotal += item.unitPriceSatang * item.quantity
    discount += item.unitDiscountSatang * item.quantity
  }
  const firstFailed = order.status === 'failed' ? items.find((item) => item.status === 'failed') : undefined
  const head: Omit<GameSoOrder, 'completed_at' | 'items'> = {
    order_number: order.orderNumber,
    reference_id: order.referenceId,
    user_id: order.userId,
    server_id: order.serverId,
    character_id: order.characterId,
    status: order.status,
    failure_code: firstFailed?.failure_code ?? null,
    failure_message: firstFailed?.failure_message ?? null,
    subtotal_amount: formatSatang(subtotal),
    discount_amount: formatSatang(discount),
    total_amount: formatSatang(subtotal - discount),
    created_at: iso(order.createdAtMs),
    updated_at: iso(order.updatedAtMs),
    source_type: 'api',
    created_by: { id: 0, name: 'API' }
  }
  // The key exists only on completed orders, as in GameSO's examples.
  if (order.completedAtMs === null) return { ...head, items }
  return { ...head, completed_at: iso(order.completedAtMs), items }
}
