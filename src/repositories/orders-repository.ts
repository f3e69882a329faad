import type pg from 'pg'
import type { MergeState } from '../domain/merge.js'
import type { OrderSnapshot, Provider, SnapshotSource } from '../domain/order.js'

/** A pg pool or a client inside a transaction: repositories run on whichever they are given. */
export type Queryable = pg.Pool | pg.PoolClient

export interface StoredMergeState extends MergeState {
  id: string
  status: string
  providerStatus: string
  reconcileState: string
}

/**
 * Serializes every write to one order, across connections and service instances, for the rest of
 * the transaction. A separate statement from the read that follows it, so that read's snapshot is
 * taken after the lock is held and sees the latest committed state.
 */
export async function lockOrderKey (client: pg.PoolClient, provider: Provider, reference: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`order:${provider}:${reference}`])
}

export async function findMergeState (client: Queryable, provider: Provider, reference: string): Promise<StoredMergeState | null> {
  const result = await client.query<{
    id: string
    status: string
    provider_status: string
    status_rank: number
    is_final: boolean
    updated_ms: string | null
    snapshot_hash: string | null
    reconcile_state: string
  }>(`SELECT id, status, provider_status, status_rank, is_final, snapshot_hash, reconcile_state,
            (extract(epoch FROM upstream_updated_at) * 1000)::bigint AS updated_ms
       FROM orders WHERE provider = $1 AND reference = $2`, [provider, reference])
  const row = result.rows[0]
  if (!row) return null
  return {
    id: row.id,
    status: row.status,
    providerStatus: row.provider_status,
    reconcileState: row.reconcile_state,
    rank: row.status_rank,
    isFinal: row.is_final,
    updatedAtMs: row.updated_ms === null ? null : Number(row.updated_ms),
    hash: row.snapshot_hash
  }
}

export interface WriteSnapshotInput {
  snapshot: OrderSnapshot
  hash: string
  source: SnapshotSource
  /** The state this transaction read under the order lock (null: the order is new). */
  previous: Pick<StoredMergeState, 'status' | 'providerStatus'> | null
  /** Accept a snapshot whose clock and rank equal the stored ones (an upstream re-fetch settles a tie). */
  authoritative: boolean
  /** A non-final order is next polled this long after the update. */
  staleAfterMs: number
  inboxId: string | null
}

/**
 * The monotonic merge as ONE conditional statement: the order upsert only changes the row when the
 * snapshot is newer (SPEC §3), and the items, the history row and the inbox link are written by
 * CTEs that depend on that upsert returning a row. PostgreSQL evaluates the condition against the
 * latest committed row, so the rule holds whatever runs concurrently.
 * Returns the order id when the snapshot was written, null when the stored order was newer.
 */
export async function writeSnapshot (client: Queryable, input: WriteSnapshotInput): Promise<string | null> {
  const { snapshot: s, hash, source, previous } = input
  const items = s.items
  const result = await client.query<{ id: string }>(`
    WITH upserted AS (
      INSERT INTO orders AS o (
        provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
        user_id, server_id, character_id, currency, subtotal_amount, discount_amount, total_amount,
        source_type, created_by, provider_attributes, failure_code, failure_message,
        upstream_created_at, upstream_updated_at, completed_at, snapshot_hash, last_source,
        reconcile_state, next_poll_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::numeric, $13::numeric, $14::numeric,
        $15, $16::jsonb, $17::jsonb, $18, $19, $20, $21, $22, $23, $24,
        CASE WHEN $7 THEN 'final' ELSE 'active' END,
        CASE WHEN $7 THEN NULL ELSE now() + make_interval(secs => $25::float8 / 1000) END,
        now())
      ON CONFLICT (provider, reference) DO UPDATE SET
        provider_order_id = EXCLUDED.provider_order_id,
        status = EXCLUDED.status,
        provider_status = EXCLUDED.provider_status,
        status_rank = EXCLUDED.status_rank,
        is_final = EXCLUDED.is_final,
        user_id = EXCLUDED.user_id,
        server_id = EXCLUDED.server_id,
        character_id = EXCLUDED.character_id,
        currency = EXCLUDED.currency,
        subtotal_amount = EXCLUDED.subtotal_amount,
        discount_amount = EXCLUDED.discount_amount,
        total_amount = EXCLUDED.total_amount,
        source_type = EXCLUDED.source_type,
        created_by = EXCLUDED.created_by,
        provider_attributes = EXCLUDED.provider_attributes,
        failure_code = EXCLUDED.failure_code,
        failure_message = EXCLUDED.failure_message,
        upstream_created_at = EXCLUDED.upstream_created_at,
        upstream_updated_at = EXCLUDED.upstream_updated_at,
        completed_at = EXCLUDED.completed_at,
        snapshot_hash = EXCLUDED.snapshot_hash,
        last_source = EXCLUDED.last_source,
        reconcile_state = EXCLUDED.reconcile_state,
        next_poll_at = EXCLUDED.next_poll_at,
        poll_attempts = 0,
        not_found_count = 0,
        last_poll_error = NULL,
        refetch_requested = false,
        tracking_since = CASE WHEN o.reconcile_state IN ('abandoned', 'not_found_upstream') THEN now() ELSE o.tracking_since END,
        updated_at = now()
      WHERE NOT (o.is_final AND NOT EXCLUDED.is_final)
        AND (o.upstream_updated_at IS NULL
          OR EXCLUDED.upstream_updated_at > o.upstream_updated_at
          OR (EXCLUDED.upstream_updated_at = o.upstream_updated_at
            AND (EXCLUDED.status_rank > o.status_rank OR ($26::boolean AND EXCLUDED.status_rank = o.status_rank))))
      RETURNING o.id
    ),
    removed_items AS (
      DELETE FROM order_items WHERE order_id IN (SELECT id FROM upserted) AND position >= $27
    ),
    written_items AS (
      INSERT INTO order_items (order_id, position, sku, product_id, game_product_id, product_type, quantity,
        completed_quantity, failed_quantity, status, currency, price_amount, subtotal_amount, discount_amount,
        total_amount, failure_code, failure_message)
      SELECT u.id, t.* FROM upserted u CROSS JOIN unnest(
        $28::int[], $29::text[], $30::text[], $31::text[], $32::text[], $33::int[], $34::int[], $35::int[],
        $36::text[], $37::text[], $38::numeric[], $39::numeric[], $40::numeric[], $41::numeric[], $42::text[], $43::text[]) AS t
      ON CONFLICT (order_id, position) DO UPDATE SET
        sku = EXCLUDED.sku, product_id = EXCLUDED.product_id, game_product_id = EXCLUDED.game_product_id,
        product_type = EXCLUDED.product_type, quantity = EXCLUDED.quantity,
        completed_quantity = EXCLUDED.completed_quantity, failed_quantity = EXCLUDED.failed_quantity,
        status = EXCLUDED.status, currency = EXCLUDED.currency, price_amount = EXCLUDED.price_amount,
        subtotal_amount = EXCLUDED.subtotal_amount, discount_amount = EXCLUDED.discount_amount,
        total_amount = EXCLUDED.total_amount, failure_code = EXCLUDED.failure_code,
        failure_message = EXCLUDED.failure_message
    ),
    history AS (
      INSERT INTO order_status_history (order_id, from_status, to_status, from_provider_status, to_provider_status,
        source, inbox_id, upstream_updated_at)
      SELECT id, $44, $4, $45, $5, $24, $46::bigint, $21 FROM upserted
      WHERE $45::text IS DISTINCT FROM $5::text
    ),
    linked_inbox AS (
      UPDATE webhook_inbox SET order_id = (SELECT id FROM upserted) WHERE id = $46::bigint AND EXISTS (SELECT 1 FROM upserted)
    )
    SELECT id FROM upserted`, [
    s.provider, s.reference, s.providerOrderId, s.status, s.providerStatus, s.statusRank, s.isFinal,
    s.userId, s.serverId, s.characterId, s.currency, s.subtotalAmount, s.discountAmount, s.totalAmount,
    s.sourceType, s.createdBy === null || s.createdBy === undefined ? null : JSON.stringify(s.createdBy),
    s.providerAttributes === null ? null : JSON.stringify(s.providerAttributes),
    s.failureCode, s.failureMessage, s.upstreamCreatedAt, s.upstreamUpdatedAt, s.completedAt, hash, source,
    input.staleAfterMs, input.authoritative, items.length,
    items.map((_item, index) => index),
    items.map((item) => item.sku),
    items.map((item) => item.productId),
    items.map((item) => item.gameProductId),
    items.map((item) => item.productType),
    items.map((item) => item.quantity),
    items.map((item) => item.completedQuantity),
    items.map((item) => item.failedQuantity),
    items.map((item) => item.status),
    items.map((item) => item.currency),
    items.map((item) => item.priceAmount),
    items.map((item) => item.subtotalAmount),
    items.map((item) => item.discountAmount),
    items.map((item) => item.totalAmount),
    items.map((item) => item.failureCode),
    items.map((item) => item.failureMessage),
    previous?.status ?? null, previous?.providerStatus ?? null, input.inboxId
  ])
  return result.rows[0]?.id ?? null
}

/**
 * Two snapshots tie on clock and rank but disagree: keep what is stored and have the reconciler
 * ask the upstream right away, whatever state the order is in.
 */
export async function requestRefetch (client: Queryable, orderId: string): Promise<void> {
  await client.query(
    `UPDATE orders SET refetch_requested = true, reconcile_state = 'active', next_poll_at = now(), updated_at = now()
      WHERE id = $1`, [orderId])
}
