import type { Queryable } from '../db/queryable.js'
import type { OrderSnapshotJson } from '../domain/order-change.js'

// The changes feed (SPEC §2.5), read from order_changes. A pending change (its order not yet
// rendered: the order is still as the change left it) is rendered in the reading statement.
//
// Why not page by id: an id (a sequence value) is taken when the row is written, long before its
// transaction commits, so a reader that has seen id 11 may meet id 10 only later, and a cursor "after
// 11" skips it. Each row also records its transaction's id (xid8, as bigint). A reader serves only
// rows whose transaction is older than its snapshot's xmin — every transaction below xmin has
// ended, so no row with such an id can still appear — and pages by (transaction_id, id). A row
// that commits late belongs to a transaction at or above the xmin of every read that did not see
// it, so it sorts after everything those reads served: nothing is skipped, nothing served twice,
// whatever the number of writers and instances. The price: an open transaction anywhere on the
// server (xmin is server-wide) holds the feed back until it ends; nothing is lost meanwhile.

/** Position in the feed: the last change served. Both parts are bigint, kept as decimal strings. */
export interface FeedPosition {
  transactionId: string
  id: string
}

export const FEED_START: FeedPosition = { transactionId: '0', id: '0' }

export interface OrderChangeRow {
  id: string
  transactionId: string
  provider: string
  reference: string
  fromStatus: string | null
  toStatus: string
  source: string
  changedAt: Date
  order: OrderSnapshotJson
}

export async function readChanges (db: Queryable, after: FeedPosition, limit: number): Promise<OrderChangeRow[]> {
  const result = await db.query<OrderChangeRow>(`
    SELECT id, transaction_id AS "transactionId", provider, reference, from_status AS "fromStatus", to_status AS "toStatus",
           source, changed_at AS "changedAt", coalesce(order_snapshot, om_order_snapshot(order_id)) AS "order"
      FROM order_changes
     WHERE (transaction_id, id) > ($1::bigint, $2::bigint)
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
     ORDER BY transaction_id, id
     LIMIT $3`, [after.transactionId, after.id, limit])
  return result.rows
}
