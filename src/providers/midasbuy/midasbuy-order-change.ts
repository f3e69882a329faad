import type { OrderAtChange } from '../../domain/order-change.js'
import { presentMidasBuyOrder, type MidasBuyOrderResponse } from './midasbuy-presenter.js'

/**
 * An order at a status change in OrderQuery's shape, as GET /v1/midasbuy/orders/{payment_order_id}
 * answers it. Before MidasBuy has reported the order (a tracked id), its clock is the mirror's.
 */
export function presentMidasBuyOrderAtChange (order: OrderAtChange): MidasBuyOrderResponse {
  return presentMidasBuyOrder({ ...order, upstreamUpdatedAt: order.upstreamUpdatedAt ?? order.updatedAt })
}
