-- Hand-written: a change's order is rendered when it is first needed, not on every merge.
--
-- Since 20261202010000_merchant_webhooks every status change got its change row, with the order as
-- the read API renders it, from a statement-level trigger on order_status_history. Building that
-- jsonb was a third of om_merge_batch's PostgreSQL CPU (20 new orders per call: 95 against 65
-- ticks of the backend's own CPU for 300 calls, read from /proc/self/stat; bench/README.md).
--
-- Now a change row om_merge_batch writes is pending (order_snapshot null) while the order it
-- changed is still as that change left it, which orders.unrendered_change_id records. Whatever
-- reads a change renders a pending one from the tables (om_order_snapshot), in the same statement,
-- so it sees the order as the change left it. The only writer of what the read API shows of a
-- merged order is om_merge_batch: before it overwrites such an order it renders the pending change
-- from the row as it was (its own statement's snapshot), and the change gets exactly what the
-- trigger would have stored. An order that changes once pays nothing; one that changes again pays
-- the rendering once, as before. Other writers of the history (create and track placeholders) keep
-- the trigger, which renders at once; the merge marks its own statement so the trigger skips it.
-- Nothing deletes a merged order (a refused create placeholder, the one order ever deleted, has no
-- upstream snapshot and so no pending change).
--
-- order_changes_order_id_idx served no query (the feed pages by (transaction_id, id), the worker
-- joins changes by primary key, deliveries carry their own order_id).

ALTER TABLE "order_changes" ALTER COLUMN "order_snapshot" DROP NOT NULL;
ALTER TABLE "orders" ADD COLUMN "unrendered_change_id" BIGINT;
DROP INDEX "order_changes_order_id_idx";

-- The order as the read API renders it (numerics as text so no amount passes through a float; the
-- columns of both read shapes): the one definition of a change's order, for the trigger, the merge
-- and the readers of pending changes. STABLE, so it reads its caller's snapshot.
CREATE FUNCTION "om_order_snapshot"(p_order_id bigint) RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
  SELECT jsonb_build_object(
    'id', o.id::text, 'provider', o.provider, 'reference', o.reference, 'providerOrderId', o.provider_order_id,
    'status', o.status, 'providerStatus', o.provider_status, 'userId', o.user_id, 'serverId', o.server_id,
    'characterId', o.character_id, 'currency', o.currency, 'subtotalAmount', o.subtotal_amount::text,
    'discountAmount', o.discount_amount::text, 'totalAmount', o.total_amount::text, 'sourceType', o.source_type,
    'createdBy', o.created_by, 'providerAttributes', o.provider_attributes, 'failureCode', o.failure_code,
    'failureMessage', o.failure_message, 'upstreamCreatedAt', o.upstream_created_at,
    'upstreamUpdatedAt', o.upstream_updated_at, 'completedAt', o.completed_at, 'createdAt', o.created_at,
    'updatedAt', o.updated_at,
    'items', COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
        'sku', i.sku, 'productId', i.product_id, 'gameProductId', i.game_product_id, 'productType', i.product_type,
        'quantity', i.quantity, 'completedQuantity', i.completed_quantity, 'failedQuantity', i.failed_quantity,
        'status', i.status, 'currency', i.currency, 'priceAmount', i.price_amount::text,
        'subtotalAmount', i.subtotal_amount::text, 'discountAmount', i.discount_amount::text,
        'totalAmount', i.total_amount::text, 'failureCode', i.failure_code, 'failureMessage', i.failure_message
      ) ORDER BY i.position)
      FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb))
    FROM orders o
   WHERE o.id = p_order_id
$$;

CREATE OR REPLACE FUNCTION "om_record_order_changes"() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
AS $$
BEGIN
  -- om_merge_batch writes the change rows of its own history rows, and says so for that statement.
  IF current_setting('order_mirror.changes_recorded', true) = 'on' THEN
    RETURN NULL;
  END IF;
  WITH changes AS (
    INSERT INTO order_changes (transaction_id, order_id, history_id, provider, reference, from_status, to_status, source,
      changed_at, order_snapshot)
    SELECT pg_current_xact_id()::text::bigint, h.order_id, h.id, o.provider, o.reference, h.from_status, h.to_status,
           h.source, h.changed_at,
           om_order_snapshot(o.id)
      FROM new_history h
      JOIN orders o ON o.id = h.order_id
     ORDER BY h.id
    RETURNING id, order_id, to_status
  )
  INSERT INTO merchant_webhook_deliveries (endpoint_id, change_id, order_id, event)
  SELECT e.id, c.id, c.order_id, 'order.' || c.to_status
    FROM changes c
    JOIN merchant_webhook_endpoints e
      ON e.status = 'active' AND (e.events ? ('order.' || c.to_status) OR e.events ? '*')
   ORDER BY c.id, e.id;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "om_merge_batch"(
  -- One entry per order: the snapshot that won among the batch's deliveries for it.
  p_provider text[], p_reference text[], p_provider_order_id text[], p_status text[], p_provider_status text[],
  p_status_rank smallint[], p_is_final boolean[], p_user_id text[], p_server_id text[], p_character_id text[],
  p_currency text[], p_subtotal_amount numeric[], p_discount_amount numeric[], p_total_amount numeric[],
  p_source_type text[], p_created_by jsonb[], p_provider_attributes jsonb[], p_failure_code text[], p_failure_message text[],
  p_upstream_created_at timestamptz[], p_upstream_updated_at timestamptz[], p_completed_at timestamptz[],
  p_snapshot_hash text[], p_source text[], p_authoritative boolean[], p_item_count int[],
  -- The items of those snapshots; p_item_order is the 1-based index of the order they belong to.
  p_item_order int[], p_item_position int[], p_item_sku text[], p_item_product_id text[], p_item_game_product_id text[],
  p_item_product_type text[], p_item_quantity int[], p_item_completed_quantity int[], p_item_failed_quantity int[],
  p_item_status text[], p_item_currency text[], p_item_price_amount numeric[], p_item_subtotal_amount numeric[],
  p_item_discount_amount numeric[], p_item_total_amount numeric[], p_item_failure_code text[], p_item_failure_message text[],
  -- One entry per delivery. p_delivery_order is the index of its order (null: no snapshot, only an
  -- inbox row); p_delivery_versus_winner is null for the winner itself, else its relation to it.
  p_delivery_order int[], p_delivery_versus_winner text[], p_delivery_upstream_updated_at timestamptz[],
  p_delivery_status_rank smallint[], p_delivery_is_final boolean[], p_delivery_snapshot_hash text[],
  p_delivery_authoritative boolean[],
  -- The inbox row of each delivery (null body hash: none, e.g. a poll). p_inbox_outcome and
  -- p_inbox_error are what a delivery without a snapshot is recorded as (ignored, invalid).
  p_inbox_provider text[], p_inbox_body bytea[], p_inbox_body_sha256 bytea[], p_inbox_headers jsonb[],
  p_inbox_event_type text[], p_inbox_reference text[], p_inbox_replay boolean[], p_inbox_outcome text[], p_inbox_error text[],
  -- A non-final order is next polled this long after it changed.
  p_stale_after_ms float8
) RETURNS TABLE (delivery int, merge_decision text, merge_outcome text, merged_order_id bigint, merged_inbox_id bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
DECLARE
  v_key bigint;
  v_order_id bigint;
  -- Per order (index = the order's position in p_provider): the upsert's result; null where not written.
  v_written_id bigint[];
  v_old_status text[];
  v_old_provider_status text[];
  -- Per order: the id its change row gets (null: no status change), and the pending change of the
  -- order as it was, with the order rendered as it was, where the write overwrote one.
  v_change_id bigint[];
  v_old_change_id bigint[];
  v_old_snapshot jsonb[];
  -- Per order: the stored row where the snapshot was not written (and so lost against it).
  v_stored_id bigint[];
  v_stored_status_rank smallint[];
  v_stored_is_final boolean[];
  v_stored_upstream_updated_at timestamptz[];
  v_stored_snapshot_hash text[];
  -- Per delivery: the answer.
  v_decision text[];
  v_outcome text[];
  v_merged_order_id bigint[];
  v_inbox_id bigint[];
  v_redelivery boolean[];
BEGIN
  -- The fresh snapshot per statement that makes the locks effective exists only under READ COMMITTED.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'om_merge_batch needs READ COMMITTED, not %', current_setting('transaction_isolation');
  END IF;
  FOR v_key IN
    SELECT DISTINCT hashtextextended('order:' || t.provider || ':' || t.reference, 0)
      FROM unnest(p_provider, p_reference) AS t(provider, reference)
     ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_key);
  END LOOP;

  -- Orders and their items. The RETURNING subqueries read the statement's snapshot, which does not
  -- include its own write: they see the order as it was (nothing for a new one), found by primary key.
  WITH winner AS (
    SELECT * FROM unnest(p_provider, p_reference, p_provider_order_id, p_status, p_provider_status, p_status_rank, p_is_final,
        p_user_id, p_server_id, p_character_id, p_currency, p_subtotal_amount, p_discount_amount, p_total_amount,
        p_source_type, p_created_by, p_provider_attributes, p_failure_code, p_failure_message,
        p_upstream_created_at, p_upstream_updated_at, p_completed_at, p_snapshot_hash, p_source, p_authoritative)
      WITH ORDINALITY AS w(provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
        user_id, server_id, character_id, currency, subtotal_amount, discount_amount, total_amount,
        source_type, created_by, provider_attributes, failure_code, failure_message,
        upstream_created_at, upstream_updated_at, completed_at, snapshot_hash, source, authoritative, ord)
  ),
  written AS (
    INSERT INTO orders AS o (
      provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
      user_id, server_id, character_id, currency, subtotal_amount, discount_amount, total_amount,
      source_type, created_by, provider_attributes, failure_code, failure_message,
      upstream_created_at, upstream_updated_at, completed_at, snapshot_hash, last_source,
      reconcile_state, next_poll_at, updated_at, unrendered_change_id)
    SELECT w.provider, w.reference, w.provider_order_id, w.status, w.provider_status, w.status_rank, w.is_final,
           w.user_id, w.server_id, w.character_id, w.currency, w.subtotal_amount, w.discount_amount, w.total_amount,
           w.source_type, w.created_by, w.provider_attributes, w.failure_code, w.failure_message,
           w.upstream_created_at, w.upstream_updated_at, w.completed_at, w.snapshot_hash, w.source,
           CASE WHEN w.is_final THEN 'final' ELSE 'active' END,
           CASE WHEN w.is_final THEN NULL ELSE now() + make_interval(secs => p_stale_after_ms / 1000) END,
           now(), nextval('order_changes_id_seq')
      FROM winner w
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
      updated_at = now(),
      -- A status change is the order's new pending change; any other write leaves none pending
      -- (the one it overwrote is rendered below from the row as it was).
      unrendered_change_id = CASE WHEN o.provider_status IS DISTINCT FROM EXCLUDED.provider_status THEN EXCLUDED.unrendered_change_id END
    -- The monotonic rule, on the row version the upsert locked.
    WHERE NOT (o.is_final AND NOT EXCLUDED.is_final)
      AND (o.upstream_updated_at IS NULL
        OR EXCLUDED.upstream_updated_at > o.upstream_updated_at
        OR (EXCLUDED.upstream_updated_at = o.upstream_updated_at
          AND (EXCLUDED.status_rank > o.status_rank
            -- An authoritative answer (an upstream re-fetch) settles a tie that disagrees; an identical one changes nothing.
            OR (EXCLUDED.status_rank = o.status_rank AND EXCLUDED.snapshot_hash IS DISTINCT FROM o.snapshot_hash
              AND (EXCLUDED.provider, EXCLUDED.reference) IN (SELECT a.provider, a.reference FROM winner a WHERE a.authoritative)))))
    RETURNING o.id, o.provider, o.reference, o.unrendered_change_id AS change_id,
      (SELECT p.status FROM orders p WHERE p.id = o.id) AS old_status,
      (SELECT p.provider_status FROM orders p WHERE p.id = o.id) AS old_provider_status,
      (SELECT p.unrendered_change_id FROM orders p WHERE p.id = o.id) AS old_change_id,
      -- om_order_snapshot reads this statement's snapshot too: the order and items before this write.
      (SELECT om_order_snapshot(p.id) FROM orders p WHERE p.id = o.id AND p.unrendered_change_id IS NOT NULL) AS old_snapshot
  ),
  outcome AS (
    SELECT w.ord, x.id, x.old_status, x.old_provider_status, x.change_id, x.old_change_id, x.old_snapshot
      FROM winner w LEFT JOIN written x ON x.provider = w.provider AND x.reference = w.reference
  ),
  -- Items are replaced as a set with the snapshot they belong to (positions past the new count go below).
  items_written AS (
    INSERT INTO order_items (order_id, position, sku, product_id, game_product_id, product_type, quantity,
      completed_quantity, failed_quantity, status, currency, price_amount, subtotal_amount, discount_amount,
      total_amount, failure_code, failure_message)
    SELECT x.id, i.position, i.sku, i.product_id, i.game_product_id, i.product_type, i.quantity,
           i.completed_quantity, i.failed_quantity, i.status, i.currency, i.price_amount, i.subtotal_amount,
           i.discount_amount, i.total_amount, i.failure_code, i.failure_message
      FROM unnest(p_item_order, p_item_position, p_item_sku, p_item_product_id, p_item_game_product_id, p_item_product_type,
          p_item_quantity, p_item_completed_quantity, p_item_failed_quantity, p_item_status, p_item_currency,
          p_item_price_amount, p_item_subtotal_amount, p_item_discount_amount, p_item_total_amount,
          p_item_failure_code, p_item_failure_message)
        AS i(order_ord, position, sku, product_id, game_product_id, product_type, quantity, completed_quantity,
          failed_quantity, status, currency, price_amount, subtotal_amount, discount_amount, total_amount,
          failure_code, failure_message)
      JOIN outcome x ON x.ord = i.order_ord AND x.id IS NOT NULL
    ON CONFLICT (order_id, position) DO UPDATE SET
      sku = EXCLUDED.sku, product_id = EXCLUDED.product_id, game_product_id = EXCLUDED.game_product_id,
      product_type = EXCLUDED.product_type, quantity = EXCLUDED.quantity,
      completed_quantity = EXCLUDED.completed_quantity, failed_quantity = EXCLUDED.failed_quantity,
      status = EXCLUDED.status, currency = EXCLUDED.currency, price_amount = EXCLUDED.price_amount,
      subtotal_amount = EXCLUDED.subtotal_amount, discount_amount = EXCLUDED.discount_amount,
      total_amount = EXCLUDED.total_amount, failure_code = EXCLUDED.failure_code,
      failure_message = EXCLUDED.failure_message
  )
  SELECT array_agg(x.id ORDER BY x.ord), array_agg(x.old_status ORDER BY x.ord), array_agg(x.old_provider_status ORDER BY x.ord),
         array_agg(x.change_id ORDER BY x.ord), array_agg(x.old_change_id ORDER BY x.ord), array_agg(x.old_snapshot ORDER BY x.ord)
    INTO v_written_id, v_old_status, v_old_provider_status, v_change_id, v_old_change_id, v_old_snapshot
    FROM outcome x;

  -- The pending changes this batch overwrote get the order as it was at them.
  IF EXISTS (SELECT 1 FROM unnest(v_old_change_id) AS t(id) WHERE t.id IS NOT NULL) THEN
    EXECUTE 'UPDATE order_changes c SET order_snapshot = t.snapshot
               FROM unnest($1::bigint[], $2::jsonb[]) AS t(id, snapshot)
              WHERE t.id IS NOT NULL AND c.id = t.id'
      USING v_old_change_id, v_old_snapshot;
  END IF;

  -- An order that existed loses the items past its new snapshot's count (a new one has none).
  IF EXISTS (SELECT 1 FROM unnest(v_written_id, v_old_status) AS t(id, old_status) WHERE t.id IS NOT NULL AND t.old_status IS NOT NULL) THEN
    EXECUTE 'DELETE FROM order_items i
               USING unnest($1::bigint[], $2::text[], $3::int[]) AS t(id, old_status, item_count)
              WHERE t.id IS NOT NULL AND t.old_status IS NOT NULL AND i.order_id = t.id AND i.position >= t.item_count'
      USING v_written_id, v_old_status, p_item_count;
  END IF;

  -- Where a snapshot was not written, the stored order is at least as new: read it to name why.
  IF EXISTS (SELECT 1 FROM unnest(v_written_id) AS t(id) WHERE t.id IS NULL) THEN
    EXECUTE 'SELECT array_agg(o.id ORDER BY t.ord), array_agg(o.status_rank ORDER BY t.ord), array_agg(o.is_final ORDER BY t.ord),
                    array_agg(o.upstream_updated_at ORDER BY t.ord), array_agg(o.snapshot_hash ORDER BY t.ord)
               FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS t(provider, reference, written_id, ord)
               LEFT JOIN orders o ON t.written_id IS NULL AND o.provider = t.provider AND o.reference = t.reference'
      INTO v_stored_id, v_stored_status_rank, v_stored_is_final, v_stored_upstream_updated_at, v_stored_snapshot_hash
      USING p_provider, p_reference, v_written_id;
  END IF;

  -- Each delivery's decision, its inbox row, the history rows of the orders that changed, and their
  -- change rows (pending: the order is rendered when it is read or next overwritten) with the
  -- outbox. The history trigger leaves this statement's rows alone.
  PERFORM set_config('order_mirror.changes_recorded', 'on', true);
  WITH delivery AS (
    SELECT * FROM unnest(p_delivery_order, p_delivery_versus_winner, p_delivery_upstream_updated_at, p_delivery_status_rank,
        p_delivery_is_final, p_delivery_snapshot_hash, p_delivery_authoritative,
        p_inbox_provider, p_inbox_body, p_inbox_body_sha256, p_inbox_headers, p_inbox_event_type, p_inbox_reference,
        p_inbox_replay, p_inbox_outcome, p_inbox_error)
      WITH ORDINALITY AS d(order_ord, versus_winner, upstream_updated_at, status_rank, is_final, snapshot_hash, authoritative,
        inbox_provider, body, body_sha256, headers, event_type, inbox_reference, replay, record_outcome, record_error, ord)
  ),
  merged AS (
    SELECT * FROM unnest(v_written_id, v_old_status, v_old_provider_status, p_status, p_provider_status, p_source, p_upstream_updated_at)
      WITH ORDINALITY AS m(written_id, old_status, old_provider_status, status, provider_status, source, upstream_updated_at, ord)
  ),
  stored AS (
    SELECT * FROM unnest(v_stored_id, v_stored_status_rank, v_stored_is_final, v_stored_upstream_updated_at, v_stored_snapshot_hash)
      WITH ORDINALITY AS s(id, status_rank, is_final, upstream_updated_at, snapshot_hash, ord)
  ),
  decided AS (
    SELECT d.*, m.written_id IS NOT NULL AS written, coalesce(m.written_id, s.id) AS order_id,
           CASE
             WHEN d.order_ord IS NULL THEN NULL
             WHEN m.written_id IS NOT NULL AND d.versus_winner IS NULL THEN CASE WHEN m.old_status IS NULL THEN 'insert' ELSE 'apply' END
             -- Every other delivery of a written order is judged against the winner, now stored.
             WHEN m.written_id IS NOT NULL THEN d.versus_winner
             -- decideMerge(stored, delivery) where nothing was written: equal clock and rank (and no
             -- final order going back) is a duplicate or a conflict, anything else is stale. Only
             -- one snapshot per order is written, so one the rule would also take lost to the
             -- winner: stale as well.
             WHEN NOT (s.is_final AND NOT d.is_final) AND d.upstream_updated_at = s.upstream_updated_at AND d.status_rank = s.status_rank
               THEN CASE WHEN d.snapshot_hash IS NOT DISTINCT FROM s.snapshot_hash THEN 'duplicate'
                         WHEN d.authoritative THEN 'stale'
                         ELSE 'conflict' END
             ELSE 'stale'
           END AS decision
      FROM delivery d
      LEFT JOIN merged m ON m.ord = d.order_ord
      LEFT JOIN stored s ON s.ord = d.order_ord
  ),
  settled AS (
    SELECT d.*,
           CASE WHEN d.order_ord IS NULL THEN d.record_outcome
                WHEN d.decision IN ('insert', 'apply') THEN 'applied'
                WHEN d.decision = 'duplicate' THEN 'duplicate'
                ELSE 'stale' END AS outcome,
           CASE WHEN d.order_ord IS NULL THEN d.record_error
                WHEN d.decision = 'conflict'
                  THEN 'equal updated_at and status rank but different content: kept the stored snapshot, upstream re-fetch requested' END AS error
      FROM decided d
  ),
  inboxed AS (
    INSERT INTO webhook_inbox AS w (provider, body, body_sha256, headers, event_type, reference, order_id, outcome, error,
      processed_at, replay_count)
    SELECT d.inbox_provider, d.body, d.body_sha256, d.headers, d.event_type, d.inbox_reference, d.order_id, d.outcome, d.error,
           now(), CASE WHEN d.replay THEN 1 ELSE 0 END
      FROM settled d
     WHERE d.body_sha256 IS NOT NULL
     -- In key order, like the locks: two batches storing the same bytes (which take no order lock
     -- when they carry no snapshot) then wait for each other in one direction only.
     ORDER BY d.inbox_provider, d.body_sha256
    -- The same bytes again. A row stored as invalid was never applied, and a replayed row (marked
    -- by the replay count it brings) is being judged again: both take this outcome. Any other row
    -- is a redelivery and keeps its own.
    ON CONFLICT (provider, body_sha256) DO UPDATE SET
      outcome = CASE WHEN EXCLUDED.replay_count > 0 OR w.outcome = 'invalid' THEN EXCLUDED.outcome ELSE w.outcome END,
      error = CASE WHEN EXCLUDED.replay_count > 0 OR w.outcome = 'invalid' THEN EXCLUDED.error ELSE w.error END,
      order_id = CASE WHEN EXCLUDED.replay_count > 0 OR w.outcome = 'invalid' THEN coalesce(EXCLUDED.order_id, w.order_id) ELSE w.order_id END,
      processed_at = CASE WHEN EXCLUDED.replay_count > 0 OR w.outcome = 'invalid' THEN EXCLUDED.processed_at ELSE w.processed_at END,
      delivery_count = w.delivery_count + CASE WHEN EXCLUDED.replay_count > 0 THEN 0 ELSE 1 END,
      last_received_at = CASE WHEN EXCLUDED.replay_count > 0 THEN w.last_received_at ELSE now() END,
      replay_count = w.replay_count + EXCLUDED.replay_count
    RETURNING w.id, w.provider, w.body_sha256, w.xmax = 0 AS inserted, (SELECT p.outcome FROM webhook_inbox p WHERE p.id = w.id) AS previous
  ),
  -- One history row per status change, linked to the delivery that made it. Its RETURNING is the
  -- set of status changes this batch made.
  history AS (
    INSERT INTO order_status_history (order_id, from_status, to_status, from_provider_status, to_provider_status,
      source, inbox_id, upstream_updated_at)
    SELECT m.written_id, m.old_status, m.status, m.old_provider_status, m.provider_status, m.source, i.id, m.upstream_updated_at
      FROM merged m
      LEFT JOIN settled d ON d.order_ord = m.ord AND d.versus_winner IS NULL
      LEFT JOIN inboxed i ON i.provider = d.inbox_provider AND i.body_sha256 = d.body_sha256
     WHERE m.written_id IS NOT NULL AND m.old_provider_status IS DISTINCT FROM m.provider_status
    RETURNING id, order_id, from_status, to_status, source, changed_at
  ),
  -- Under the id the upsert gave the order as its pending change (its condition is this history's).
  changes AS (
    INSERT INTO order_changes (id, transaction_id, order_id, history_id, provider, reference, from_status, to_status, source,
      changed_at, order_snapshot)
    SELECT v_change_id[m.ord], pg_current_xact_id()::text::bigint, h.order_id, h.id, p_provider[m.ord], p_reference[m.ord],
           h.from_status, h.to_status, h.source, h.changed_at, NULL
      FROM history h
      JOIN merged m ON m.written_id = h.order_id
     ORDER BY h.id
    RETURNING id, order_id, to_status
  ),
  outbox AS (
    INSERT INTO merchant_webhook_deliveries (endpoint_id, change_id, order_id, event)
    SELECT e.id, c.id, c.order_id, 'order.' || c.to_status
      FROM changes c
      JOIN merchant_webhook_endpoints e
        ON e.status = 'active' AND (e.events ? ('order.' || c.to_status) OR e.events ? '*')
     ORDER BY c.id, e.id
  ),
  answered AS (
    SELECT d.ord, d.decision, d.outcome, d.order_id, i.id AS inbox_id,
           -- A redelivery's snapshot was merged before and the stored order only moves forward, so
           -- nothing was written for it: it is answered as a duplicate.
           coalesce(NOT i.inserted AND NOT d.replay AND i.previous <> 'invalid' AND NOT d.written, false) AS redelivery
      FROM settled d
      LEFT JOIN inboxed i ON i.provider = d.inbox_provider AND i.body_sha256 = d.body_sha256
  )
  SELECT array_agg(a.decision ORDER BY a.ord), array_agg(a.outcome ORDER BY a.ord), array_agg(a.order_id ORDER BY a.ord),
         array_agg(a.inbox_id ORDER BY a.ord), array_agg(a.redelivery ORDER BY a.ord)
    INTO v_decision, v_outcome, v_merged_order_id, v_inbox_id, v_redelivery
    FROM answered a;
  PERFORM set_config('order_mirror.changes_recorded', 'off', true);

  -- Two snapshots tie but disagree: keep what is stored, and have the reconciler ask the upstream.
  -- A tie found while the order is leased to a poll must not make it due at once, or a second
  -- instance could claim and poll it while the first poll is still in flight: finishPoll sees
  -- refetch_requested and makes the order due right after.
  FOR v_order_id IN
    SELECT DISTINCT t.order_id FROM unnest(v_merged_order_id, v_decision, v_redelivery) AS t(order_id, decision, redelivery)
     WHERE t.decision = 'conflict' AND NOT t.redelivery
  LOOP
    UPDATE orders
       SET refetch_requested = true,
           reconcile_state = 'active',
           next_poll_at = CASE WHEN lease_owner IS NULL THEN now() ELSE next_poll_at END,
           updated_at = now()
     WHERE id = v_order_id;
  END LOOP;

  RETURN QUERY
  SELECT t.ord::int,
         CASE WHEN t.redelivery THEN 'redelivery' ELSE t.decision END,
         CASE WHEN t.redelivery THEN 'duplicate' ELSE t.outcome END,
         CASE WHEN t.redelivery THEN NULL ELSE t.order_id END,
         t.inbox_id
    FROM unnest(v_decision, v_outcome, v_merged_order_id, v_inbox_id, v_redelivery)
      WITH ORDINALITY AS t(decision, outcome, order_id, inbox_id, redelivery, ord);
END
$$;
