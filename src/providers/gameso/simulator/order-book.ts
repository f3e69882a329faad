import { AppError, NotFoundError } from '../../../errors.js'
import type { Random } from '../../../simulator/random.js'
import { TimedOrderBook } from '../../../simulator/timed-order-book.js'
import { nextTimestamp } from '../../../simulator/timestamps.js'
import type { CatalogEntry } from './catalog.js'
import {
  applyStatus, isFinal, ITEM_NOT_FOUND, newItem, nextStatus, planItem,
  type ItemPlan, type OrderStatus, type SimItem, type SimOrder
} from './order.js'
import type { CreateOrderBody, SeedOrder } from './order-schemas.js'

/** The progression settings, read live so a change through the control API applies at once. */
export interface ProgressSettings {
  processingDelayMs: number
  completionDelayMs: number
  autoProgress: boolean
  itemFailureRate: number
}

export interface OrderBookOptions {
  catalog: ReadonlyMap<string, CatalogEntry>
  random: Random
  settings: ProgressSettings
  now: () => number
  /** Called after every status change, creation included. */
  onChange: (order: SimOrder) => void
}

class InvalidSkuError extends AppError {
  constructor (sku: string, where: string) { super(400, 'INVALID_SKU', `${where}sku ${sku} is not available`) }
}

class DuplicateReferenceError extends AppError {
  constructor (referenceId: string) { super(409, 'DUPLICATE_REFERENCE', `reference_id ${referenceId} already exists`) }
}

class SeedError extends AppError {
  constructor (message: string) { super(400, 'VALIDATION_ERROR', message) }
}

/** GameSO's orders: pending → processing after processingDelayMs → completed | failed after completionDelayMs. */
export class OrderBook extends TimedOrderBook<SimOrder, OrderStatus> {
  constructor (private readonly options: OrderBookOptions) {
    super(options.onChange)
  }

  create (body: CreateOrderBody): SimOrder {
    const entries = body.items.map((item) => this.catalogEntry(item.sku, ''))
    if (this.orders.has(body.reference_id)) throw new DuplicateReferenceError(body.reference_id)
    const { random, settings } = this.options
    const items = body.items.map((item, index) => {
      const entry = entries[index] as CatalogEntry
      return newItem(entry, item.quantity, planItem(entry, item.quantity, random, settings.itemFailureRate))
    })
    const now = this.options.now()
    const order = this.newOrder(body, items, now, now)
    order.sendWebhooks = true
    this.add(order)
    return order
  }

  /**
   * Inserts orders as if they had been created upstream earlier. All seeds are checked before any
   * is stored, so a rejected batch leaves nothing behind.
   */
  seed (seeds: readonly SeedOrder[]): SimOrder[] {
    const references = new Set<string>()
    const orders = seeds.map((seed, index) => {
      const where = seeds.length > 1 ? `orders[${index}].` : ''
      if (this.orders.has(seed.reference_id) || references.has(seed.reference_id)) throw new DuplicateReferenceError(seed.reference_id)
      references.add(seed.reference_id)
      return this.seededOrder(seed, where)
    })
    for (const order of orders) this.add(order)
    return orders
  }

  /** Forces the next transition now (control API). */
  advance (referenceId: string): SimOrder {
    const order = this.orders.get(referenceId)
    if (!order) throw new NotFoundError()
    if (isFinal(order.status)) throw new AppError(409, 'ORDER_FINAL', `Order is already ${order.status}`)
    this.step(order)
    return order
  }

  protected referenceOf (order: SimOrder): string {
    return order.referenceId
  }

  protected statusOf (order: SimOrder): OrderStatus {
    return order.status
  }

  protected nextStepDelayMs (order: SimOrder): number | undefined {
    const { settings } = this.options
    if (!settings.autoProgress || !order.autoProgress || isFinal(order.status)) return undefined
    return order.status === 'pending' ? settings.processingDelayMs : settings.completionDelayMs
  }

  protected transition (order: SimOrder): boolean {
    const status = nextStatus(order)
    if (!status) return false
    applyStatus(order, status, nextTimestamp(order.updatedAtMs, this.options.now()))
    return true
  }

  private catalogEntry (sku: string, where: string): CatalogEntry {
    const entry = this.options.catalog.get(sku)
    if (!entry) throw new InvalidSkuError(sku, where)
    return entry
  }

  private newOrder (fields: Pick<SeedOrder, 'reference_id' | 'user_id' | 'server_id' | 'character_id'>, items: SimItem[], createdAtMs: number, updatedAtMs: number): SimOrder {
    return {
      orderNumber: `ord_${this.options.random.alphanumeric(16)}`,
      referenceId: fields.reference_id,
      userId: fields.user_id,
      serverId: fields.server_id,
      characterId: fields.character_id,
      status: 'pending',
      items,
      createdAtMs,
      updatedAtMs,
      completedAtMs: null,
      sendWebhooks: false,
      autoProgress: true
    }
  }

  private seededOrder (seed: SeedOrder, where: string): SimOrder {
    const items = seed.items.map((item, index) => {
      const entry = this.catalogEntry(item.sku, `${where}items[${index}].`)
      return newItem(entry, item.quantity, this.seedPlan(seed, item, entry, `${where}items[${index}].`))
    })
    if (seed.status === 'failed' && items.every((item) => item.plan.failedQuantity === 0)) {
      throw new SeedError(`${where}status failed needs at least one item with failed_quantity > 0`)
    }
    const now = this.options.now()
    const createdAtMs = seed.created_at ?? seed.updated_at ?? now
    const updatedAtMs = seed.updated_at ?? createdAtMs
    if (updatedAtMs < createdAtMs) throw new SeedError(`${where}updated_at must not be before created_at`)
    const order = this.newOrder(seed, items, createdAtMs, updatedAtMs)
    applyStatus(order, seed.status, updatedAtMs)
    order.sendWebhooks = seed.send_webhooks
    order.autoProgress = seed.progress
    return order
  }

  /**
   * Item counts given in a seed are its outcome. Missing counts: a completed seed completes every
   * unit, a failed seed fails every unit, a pending/processing seed draws the outcome like a
   * created order.
   */
  private seedPlan (seed: SeedOrder, item: SeedOrder['items'][number], entry: CatalogEntry, where: string): ItemPlan {
    const failure = { code: item.failure_code ?? ITEM_NOT_FOUND.code, message: item.failure_message ?? ITEM_NOT_FOUND.message }
    if (item.failed_quantity === undefined && item.completed_quantity === undefined) {
      if (seed.status === 'completed') return { failedQuantity: 0, failure }
      if (seed.status === 'failed') return { failedQuantity: item.quantity, failure }
      return { ...planItem(entry, item.quantity, this.options.random, this.options.settings.itemFailureRate), failure }
    }
    const failedQuantity = item.failed_quantity ?? item.quantity - (item.completed_quantity ?? 0)
    const completedQuantity = item.completed_quantity ?? item.quantity - failedQuantity
    if (failedQuantity < 0 || completedQuantity < 0 || failedQuantity + completedQuantity !== item.quantity) {
      throw new SeedError(`${where}completed_quantity + failed_quantity must equal quantity (${item.quantity})`)
    }
    if (seed.status === 'completed' && failedQuantity > 0) throw new SeedError(`${where}failed_quantity must be 0 in a completed order`)
    return { failedQuantity, failure }
  }
}
