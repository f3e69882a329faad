import type { BaseControl, PublicSettings } from '../../../simulator/control.js'
import type { StatsView } from '../../../simulator/stats.js'
import type { Settings } from './options.js'
import type { SeedOrderInput } from './order-schemas.js'
import type { GameSoOrder, OrderStatus } from './order.js'

/** GameSO's control: the common part plus its orders. */
export interface GameSoControl extends BaseControl<Settings, PublicSettings<Settings, 'webhookSecret'>, StatsView<OrderStatus>> {
  readonly apiKey: string
  /** Inserts orders as if created upstream earlier (see seedOrderSchema); all or none. */
  seedOrders (seeds: readonly SeedOrderInput[]): GameSoOrder[]
  order (referenceId: string): GameSoOrder | undefined
  orders (status?: OrderStatus): GameSoOrder[]
  /** Forces the order's next transition now. */
  advance (referenceId: string): GameSoOrder
}
