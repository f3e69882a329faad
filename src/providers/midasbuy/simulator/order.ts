import type { Random } from '../../../simulator/random.js'
import type { MidasBuyStatus } from '../midasbuy-schemas.js'
import { formatMinorUnits } from './money.js'

const ID_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/**
 * The shape of MidasBuy's ids in its examples: a prefix, the day (yymmdd) and random capitals and
 * digits — payment orders SG241018Y1V0T44VLXXX1E, webhooks WEBHOOK240929CBXLYDCHMKXXE.
 */
export function datedId (prefix: string, atMs: number, random: Random, length: number): string {
  const day = new Date(atMs).toISOString().slice(2, 10).replaceAll('-', '')
  return `${prefix}${day}${random.characters(ID_CHARACTERS, length)}`
}

export interface SimItem {
  productId: string
  gameProductId: string
  quantity: number
  productType: string
  /** Price of one unit, in the order currency's minor units. */
  unitMinor: bigint
}

export interface SimPaymentOrder {
  paymentOrderId: string
  appId: string
  userId: string
  serverId: string
  status: MidasBuyStatus
  currency: string
  /** Decimals of `currency`. */
  scale: number
  items: SimItem[]
  shopRegion: string
  paymentChannel: string
  createdAtMs: number
  updatedAtMs: number
  /** Decided when the order is made, so a seed reproduces it: Finished is followed by Refunded. */
  refunds: boolean
  /** Seeded orders stand for "notification never came" and stay silent unless asked otherwise. */
  sendNotifications: boolean
  /** Whether the timer moves this order on (control `advance` always can). */
  autoProgress: boolean
}

export interface OrderQueryPrice { currency: string, amount: string }

/** MidasBuy's OrderQuery answer (and a payment notification's `resource`), keys in the docs' order. */
export interface OrderQueryOrder {
  app_id: string
  create_time: string
  update_time: string
  user_id: string
  payment_order_id: string
  server_id: string
  order_status: MidasBuyStatus
  order_items: Array<{ product_id: string, game_product_id: string, quantity: string, product_type: string, price: OrderQueryPrice }>
  total_price: OrderQueryPrice
  shop_region: string
  payment_channel: string
}

/** Created → Paid → Finished, then Refunded for an order drawn to be refunded; undefined once final. */
export function nextStatus (order: SimPaymentOrder): MidasBuyStatus | undefined {
  switch (order.status) {
    case 'Created': return 'Paid'
    case 'Paid': return 'Finished'
    case 'Finished': return order.refunds ? 'Refunded' : undefined
    case 'Refunded': return undefined
  }
}

/** The layout MidasBuy documents (Go's RFC 3339, `2021-11-08T05:45:20Z`): whole seconds, UTC. */
export function rfc3339Seconds (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The order as OrderQuery shows it. An item's `price` is taken as the price of one unit (the docs'
 * examples all have quantity 1, so they cannot tell) and `total_price` as their sum.
 */
export function toOrderQuery (order: SimPaymentOrder): OrderQueryOrder {
  let total = 0n
  const items = order.items.map((item) => {
    total += item.unitMinor * BigInt(item.quantity)
    return {
      product_id: item.productId,
      game_product_id: item.gameProductId,
      quantity: String(item.quantity),
      product_type: item.productType,
      price: { currency: order.currency, amount: formatMinorUnits(item.unitMinor, order.scale) }
    }
  })
  return {
    app_id: order.appId,
    create_time: rfc3339Seconds(order.createdAtMs),
    update_time: rfc3339Seconds(order.updatedAtMs),
    user_id: order.userId,
    payment_order_id: order.paymentOrderId,
    server_id: order.serverId,
    order_status: order.status,
    order_items: items,
    total_price: { currency: order.currency, amount: formatMinorUnits(total, order.scale) },
    shop_region: order.shopRegion,
    payment_channel: order.paymentChannel
  }
}
