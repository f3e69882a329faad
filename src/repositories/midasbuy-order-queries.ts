import type { Queryable } from '../db/queryable.js'
import type { StoredMidasBuyOrder } from '../domain/stored-order.js'

// The read side of MidasBuy orders: the columns its OrderQuery shape needs, which the GameSO-shaped
// StoredOrder leaves out (provider attributes, product ids, unit prices). Amounts are cast to text
// so their scale reaches the answer exactly as MidasBuy sent it.

/** Only orders MidasBuy itself has reported: a placeholder has nothing of MidasBuy's to show. */
const FIND_MIDASBUY_ORDER_SQL = `
  SELECT o.reference, o.provider_status AS "providerStatus", o.user_id AS "userId", o.server_id AS "serverId",
         o.currency, o.total_amount::text AS "totalAmount", o.provider_attributes AS "providerAttributes",
         o.upstream_created_at AS "upstreamCreatedAt", o.upstream_updated_at AS "upstreamUpdatedAt",
         COALESCE((
           SELECT json_agg(json_build_object(
             'productId', i.product_id, 'gameProductId', i.game_product_id, 'productType', i.product_type,
             'quantity', i.quantity, 'currency', i.currency, 'priceAmount', i.price_amount::text
           ) ORDER BY i.position)
           FROM order_items i WHERE i.order_id = o.id
         ), '[]'::json) AS items
    FROM orders o
   WHERE o.provider = 'midasbuy' AND o.reference = $1 AND o.upstream_updated_at IS NOT NULL`

export async function findMidasBuyOrder (client: Queryable, paymentOrderId: string): Promise<StoredMidasBuyOrder | null> {
  const result = await client.query<StoredMidasBuyOrder>(FIND_MIDASBUY_ORDER_SQL, [paymentOrderId])
  return result.rows[0] ?? null
}
