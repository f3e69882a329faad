import type pg from 'pg'
import type { Provider } from '../domain/order.js'
import type { Queryable } from '../db/queryable.js'

/** How an order came to be followed before any upstream snapshot of it was seen. */
export type PlaceholderSource = 'create' | 'track'

export interface PlaceholderInput {
  provider: Provider
  reference: string
  source: PlaceholderSource
  /** The provider's own status for an order it has not reported yet (MidasBuy `Created`); the canonical `pending` by default. */
  providerStatus?: string
  userId?: string | null
  serverId?: string | null
  characterId?: string | null
  /** What the merchant asked for, kept until the upstream's own items replace them. */
  items?: ReadonlyArray<{ sku: string, quantity: number }>
  /** The reconciler first looks at a new placeholder this long after it is recorded. */
  firstPollDelayMs: number
}

export interface RegisteredOrder {
  orderId: string
  /**
   * `created`: a new placeholder; `resumed`: an order the reconciler had given up on (abandoned,
   * not_found_upstream) is followed again; `existing`: already known and left as it was.
   */
  outcome: 'created' | 'resumed' | 'existing'
  /** Some upstream snapshot has been stored for this order (it exists upstream). */
  confirmed: boolean
  isFinal: boolean
  reconcileState: string
}

const UNRESOLVED_STATES = ['abandoned', 'not_found_upstream']

/**
 * Records an order the mirror must follow before the upstream has said anything about it: a
 * `pending` row with no upstream clock (so any upstream snapshot wins the merge), due for a poll
 * soon, with its history row. An order that already exists is left alone, except that one the
 * reconciler had stopped following without a final state is followed again. Run it under
 * lockOrderKey so it is ordered with the merges of the same order.
 */
export async function registerOrder (client: pg.PoolClient, input: PlaceholderInput): Promise<RegisteredOrder> {
  const items = input.items ?? []
  const inserted = await client.query<{ id: string }>(`
    WITH placeholder AS (
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, is_final, user_id, server_id,
        character_id, last_source, reconcile_state, next_poll_at, tracking_since)
      VALUES ($1, $2, 'pending', $11::text, 1, false, $3, $4, $5, $6, 'active',
        now() + make_interval(secs => $7::float8 / 1000), now())
      ON CONFLICT (provider, reference) DO NOTHING
      RETURNING id
    ),
    requested_items AS (
      INSERT INTO order_items (order_id, position, sku, quantity)
      SELECT p.id, t.position, t.sku, t.quantity FROM placeholder p
        CROSS JOIN unnest($8::int[], $9::text[], $10::int[]) AS t(position, sku, quantity)
    ),
    history AS (
      INSERT INTO order_status_history (order_id, from_status, to_status, from_provider_status, to_provider_status, source)
      SELECT id, NULL, 'pending', NULL, $11, $6 FROM placeholder
    )
    SELECT id FROM placeholder`, [
    input.provider, input.reference, input.userId ?? null, input.serverId ?? null, input.characterId ?? null,
    input.source, input.firstPollDelayMs,
    items.map((_item, index) => index), items.map((item) => item.sku), items.map((item) => item.quantity),
    input.providerStatus ?? 'pending'
  ])
  const created = inserted.rows[0]
  if (created) return { orderId: created.id, outcome: 'created', confirmed: false, isFinal: false, reconcileState: 'active' }

  const resumed = await client.query<{ id: string, confirmed: boolean }>(`
    UPDATE orders SET reconcile_state = 'active', next_poll_at = now() + make_interval(secs => $4::float8 / 1000),
        tracking_since = now(), poll_attempts = 0, not_found_count = 0, last_poll_error = NULL, updated_at = now()
      WHERE provider = $1 AND reference = $2 AND NOT is_final AND reconcile_state = ANY($3::text[])
      RETURNING id, upstream_updated_at IS NOT NULL AS confirmed`, [input.provider, input.reference, UNRESOLVED_STATES, input.firstPollDelayMs])
  const again = resumed.rows[0]
  if (again) return { orderId: again.id, outcome: 'resumed', confirmed: again.confirmed, isFinal: false, reconcileState: 'active' }

  const existing = await client.query<{ id: string, confirmed: boolean, is_final: boolean, reconcile_state: string }>(
    `SELECT id, upstream_updated_at IS NOT NULL AS confirmed, is_final, reconcile_state
       FROM orders WHERE provider = $1 AND reference = $2`, [input.provider, input.reference])
  const row = existing.rows[0]
  if (!row) throw new Error('order neither inserted nor found under its lock')
  return { orderId: row.id, outcome: 'existing', confirmed: row.confirmed, isFinal: row.is_final, reconcileState: row.reconcile_state }
}

/**
 * Deletes a create placeholder the upstream refused, so no phantom order lingers. Only a row no
 * upstream snapshot has touched goes: if the order showed up upstream meanwhile, it stays.
 */
export async function discardCreatePlaceholder (client: Queryable, orderId: string): Promise<boolean> {
  const result = await client.query(
    "DELETE FROM orders WHERE id = $1 AND upstream_updated_at IS NULL AND last_source = 'create'", [orderId])
  return (result.rowCount ?? 0) > 0
}

/** The upstream says the order exists but the mirror has not seen it: have the reconciler fetch it now. */
export async function pollUnconfirmedNow (client: Queryable, orderId: string): Promise<void> {
  await client.query(
    `UPDATE orders SET next_poll_at = now(), updated_at = now()
      WHERE id = $1 AND upstream_updated_at IS NULL AND reconcile_state = 'active'`, [orderId])
}
