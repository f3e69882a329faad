import { AppError, NotFoundError } from '../../../errors.js'
import type { Random } from '../../../simulator/random.js'
import { TimedOrderBook } from '../../../simulator/timed-order-book.js'
import { nextTimestamp } from '../../../simulator/timestamps.js'
import type { MidasBuyStatus } from '../midasbuy-schemas.js'
import { currencyScale, toMinorUnits } from './money.js'
import type { NewOrder, SeedOrder } from './order-schemas.js'
import { datedId, nextStatus, type SimItem, type SimPaymentOrder } from './order.js'

/** The progression settings, read live so a change through the control API applies at once. */
export interface ProgressSettings {
  paidDelayMs: number
  finishDelayMs: number
  refundDelayMs: number
  refundRate: number
  autoProgress: boolean
}

export interface PaymentOrderBookOptions {
  appId: string
  random: Random
  settings: ProgressSettings
  now: () => number
  /** Called after every status change, creation included. */
  onChange: (order: SimPaymentOrder) => void
}

/** An item without a price costs this many minor units (USD 0.99, JPY 99, TND 0.099). */
const DEFAULT_UNIT_MINOR = 99n

class DuplicateIdError extends AppError {
  constructor (id: string) { super(409, 'DUPLICATE_REFERENCE', `payment_order_id ${id} already exists`) }
}

class SeedError extends AppError {
  constructor (message: string) { super(400, 'VALIDATION_ERROR', message) }
}

/** The delay before an order in `status` moves on. */
function delayFor (status: MidasBuyStatus, settings: ProgressSettings): number {
  if (status === 'Created') return settings.paidDelayMs
  if (status === 'Paid') return settings.finishDelayMs
  return settings.refundDelayMs
}

/** MidasBuy's payment orders: Created → Paid → Finished, and Refunded later for the share drawn at creation. */
export class PaymentOrderBook extends TimedOrderBook<SimPaymentOrder, MidasBuyStatus> {
  constructor (private readonly options: PaymentOrderBookOptions) {
    super(options.onChange)
  }

  /** A player buys now: the order starts Created. */
  purchase (input: NewOrder): SimPaymentOrder {
    const now = this.options.now()
    const order = this.newOrder(input, 'Created', now, now, input.send_notifications)
    if (this.orders.has(order.paymentOrderId)) throw new DuplicateIdError(order.paymentOrderId)
    this.add(order)
    return order
  }

  /** Inserts orders as if bought earlier; all are checked before any is stored. */
  seed (seeds: readonly SeedOrder[]): SimPaymentOrder[] {
    const ids = new Set<string>()
    const now = this.options.now()
    const orders = seeds.map((seed, index) => {
      const where = seeds.length > 1 ? `orders[${index}].` : ''
      const createdAtMs = seed.create_time ?? seed.update_time ?? now
      const updatedAtMs = seed.update_time ?? createdAtMs
      if (updatedAtMs < createdAtMs) throw new SeedError(`${where}update_time must not be before create_time`)
      const order = this.newOrder(seed, seed.status, createdAtMs, updatedAtMs, seed.send_notifications)
      if (this.orders.has(order.paymentOrderId) || ids.has(order.paymentOrderId)) throw new DuplicateIdError(order.paymentOrderId)
      ids.add(order.paymentOrderId)
      return order
    })
    for (const order of orders) this.add(order)
    return orders
  }

  /** Forces the next transition now (control API). */
  advance (id: string): SimPaymentOrder {
    const order = this.find(id)
    if (nextStatus(order) === undefined) throw new AppError(409, 'ORDER_FINAL', `Order is already ${order.status}${order.status === 'Finished' ? ' and not to be refunded' : ''}`)
    this.step(order)
    return order
  }

  /** Refunds a paid order now, whatever was drawn for it (control API). */
  refund (id: string): SimPaymentOrder {
    const order = this.find(id)
    if (order.status === 'Refunded') throw new AppError(409, 'ORDER_FINAL', 'Order is already Refunded')
    if (order.status === 'Created') throw new AppError(409, 'ORDER_NOT_PAID', 'A Created order has nothing to refund')
    order.refunds = true
    this.moveTo(order, 'Refunded')
    this.changed(order)
    return order
  }

  private find (id: string): SimPaymentOrder {
    const order = this.orders.get(id)
    if (!order) throw new NotFoundError()
    return order
  }

  protected referenceOf (order: SimPaymentOrder): string {
    return order.paymentOrderId
  }

  protected statusOf (order: SimPaymentOrder): MidasBuyStatus {
    return order.status
  }

  protected nextStepDelayMs (order: SimPaymentOrder): number | undefined {
    const { settings } = this.options
    if (!settings.autoProgress || !order.autoProgress || nextStatus(order) === undefined) return undefined
    return delayFor(order.status, settings)
  }

  protected transition (order: SimPaymentOrder): boolean {
    const status = nextStatus(order)
    if (status === undefined) return false
    this.moveTo(order, status)
    return true
  }

  private moveTo (order: SimPaymentOrder, status: MidasBuyStatus): void {
    order.status = status
    order.updatedAtMs = nextTimestamp(order.updatedAtMs, this.options.now())
  }

  private newOrder (input: NewOrder | SeedOrder, status: MidasBuyStatus, createdAtMs: number, updatedAtMs: number, sendNotifications: boolean): SimPaymentOrder {
    const scale = currencyScale(input.currency)
    const items: SimItem[] = input.items.map((item) => ({
      productId: item.product_id,
      gameProductId: item.game_product_id ?? item.product_id,
      quantity: item.quantity,
      productType: item.product_type,
      // The schema checked that a given price fits the currency.
      unitMinor: item.price === undefined ? DEFAULT_UNIT_MINOR : toMinorUnits(item.price, scale) ?? DEFAULT_UNIT_MINOR
    }))
    return {
      paymentOrderId: input.payment_order_id ?? datedId('SG', createdAtMs, this.options.random, 14),
      appId: this.options.appId,
      userId: input.user_id,
      serverId: input.server_id,
      status,
      currency: input.currency,
      scale,
      items,
      shopRegion: input.shop_region,
      paymentChannel: input.payment_channel,
      createdAtMs,
      updatedAtMs,
      refunds: status === 'Refunded' || (input.refund ?? this.options.random.chance(this.options.settings.refundRate)),
      sendNotifications,
      autoProgress: input.progress
    }
  }
}
