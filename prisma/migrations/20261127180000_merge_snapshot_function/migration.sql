-- Hand-written: the monotonic merge (SPEC §3) as one function call.
--
-- Why a function: a webhook then costs one round trip to PostgreSQL instead of BEGIN, lock, merge,
-- COMMIT, and the per-order lock is held while no network round trip is pending, which is what
-- bounds the throughput of deliveries for one hot order. Each statement of a VOLATILE PL/pgSQL
-- function takes a fresh snapshot under READ COMMITTED, so everything after the lock sees every
-- write committed before the lock was granted; each table is still written by one conditional
-- statement, and the call commits (or rolls back) as one transaction.
-- decideMerge (src/domain/merge.ts) is the specification of the decision named here;
-- test/integration/merge-property.test.ts holds the two to each other over every pair of states.

-- Plan safety: om_merge_snapshot does not depend on the planner picking the right index.
--
-- Why: PL/pgSQL caches a generic plan per statement and session. With no statistics yet (a fresh
-- database, or a server with autovacuum off) the plans made while `orders` and `webhook_inbox`
-- were nearly empty looked the order up through an index led by `provider` alone, so each
-- lookup read every order of the provider: on a fresh database, PostgreSQL's CPU per webhook
-- grew from 0.9 to 2.3 ms within 11,000 deliveries. Planning those lookups afresh (EXECUTE) on
-- every call cost half as much again as the whole merge, so the common path now has no lookup
-- by (provider, reference) at all:
--   - the order upsert returns the previous status through subqueries by primary key (they read
--     the statement's snapshot, which excludes the statement's own write);
--   - a redelivery is recognised by the inbox insert's conflict arbiter after the merge, which
--     is safe because merging an already merged snapshot writes nothing: the stored order only
--     moves forward;
--   - only a snapshot that was not written looks the order up to name the decision, by EXECUTE.
-- Decisions, outcomes and what is written are unchanged (test/integration/merge-property.test.ts).

-- A tie found while the order is leased to a poll must not make it due at once, or a second
-- instance could claim and poll it while the first poll is still in flight. The flag alone is
-- enough then: finishPoll sees refetch_requested and makes the order due right after.
CREATE FUNCTION "om_request_refetch"(p_order_id bigint) RETURNS void LANGUAGE sql AS $$
  UPDATE orders
     SET refetch_requested = true,
         reconcile_state = 'active',
         next_poll_at = CASE WHEN lease_owner IS NULL THEN now() ELSE next_poll_at END,
         updated_at = now()
   WHERE id = p_order_id
$$;

CREATE FUNCTION "om_merge_snapshot"(
  p_provider text, p_reference text, p_provider_order_id text, p_status text, p_provider_status text,
  p_status_rank smallint, p_is_final boolean, p_user_id text, p_server_id text, p_character_id text,
  p_currency text, p_subtotal_amount numeric, p_discount_amount numeric, p_total_amount numeric,
  p_source_type text, p_created_by jsonb, p_provider_attributes jsonb, p_failure_code text, p_failure_message text,
  p_upstream_created_at timestamptz, p_upstream_updated_at timestamptz, p_completed_at timestamptz,
  p_snapshot_hash text, p_source text, p_stale_after_ms float8, p_authoritative boolean,
  p_item_sku text[], p_item_product_id text[], p_item_game_product_id text[], p_item_product_type text[],
  p_item_quantity int[], p_item_completed_quantity int[], p_item_failed_quantity int[], p_item_status text[],
  p_item_currency text[], p_item_price_amount numeric[], p_item_subtotal_amount numeric[], p_item_discount_amount numeric[],
  p_item_total_amount numeric[], p_item_failure_code text[], p_item_failure_message text[],
  p_inbox_body bytea, p_inbox_body_sha256 bytea, p_inbox_headers jsonb, p_inbox_event_type text, p_inbox_reference text,
  p_inbox_replay boolean
) RETURNS TABLE (merge_decision text, merge_outcome text, merged_order_id bigint, merged_inbox_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_found boolean;
  v_redelivery boolean := false;
  v_old_id bigint;
  v_old_status text;
  v_old_provider_status text;
  v_old_rank smallint;
  v_old_final boolean;
  v_old_updated timestamptz;
  v_old_hash text;
  v_written bigint;
  v_decision text;
  v_outcome text;
  v_inbox_id bigint;
  v_inbox_inserted boolean;
  v_inbox_previous text;
BEGIN
  -- The fresh snapshot per statement that makes the lock effective exists only under READ COMMITTED.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'om_merge_snapshot needs READ COMMITTED, not %', current_setting('transaction_isolation');
  END IF;
  -- The same key as lockOrderKey (orders-repository.ts): every writer of an order queues here.
  PERFORM pg_advisory_xact_lock(hashtextextended('order:' || p_provider || ':' || p_reference, 0));

  -- Every statement below finds its rows through a unique or primary key (an upsert's conflict
  -- arbiter, or an id), never through a cached plan's choice of index: see the header.
  INSERT INTO orders AS o (
    provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
    user_id, server_id, character_id, currency, subtotal_amount, discount_amount, total_amount,
    source_type, created_by, provider_attributes, failure_code, failure_message,
    upstream_created_at, upstream_updated_at, completed_at, snapshot_hash, last_source,
    reconcile_state, next_poll_at, updated_at)
  VALUES (
    p_provider, p_reference, p_provider_order_id, p_status, p_provider_status, p_status_rank, p_is_final,
    p_user_id, p_server_id, p_character_id, p_currency, p_subtotal_amount, p_discount_amount, p_total_amount,
    p_source_type, p_created_by, p_provider_attributes, p_failure_code, p_failure_message,
    p_upstream_created_at, p_upstream_updated_at, p_completed_at, p_snapshot_hash, p_source,
    CASE WHEN p_is_final THEN 'final' ELSE 'active' END,
    CASE WHEN p_is_final THEN NULL ELSE now() + make_interval(secs => p_stale_after_ms / 1000) END,
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
        AND (EXCLUDED.status_rank > o.status_rank
          -- An authoritative answer (an upstream re-fetch) settles a tie that disagrees; an identical one changes nothing.
          OR (p_authoritative AND EXCLUDED.status_rank = o.status_rank AND EXCLUDED.snapshot_hash IS DISTINCT FROM o.snapshot_hash))))
  -- The subqueries read the statement's snapshot, which does not include its own write: they see
  -- the order as it was (nothing for a new one), found by primary key.
  RETURNING o.id, (SELECT p.status FROM orders p WHERE p.id = o.id), (SELECT p.provider_status FROM orders p WHERE p.id = o.id)
    INTO v_written, v_old_status, v_old_provider_status;

  IF v_written IS NOT NULL THEN
    -- Items are replaced as a set with the snapshot they belong to. A new order (no previous
    -- status) has no items to remove, which spares most webhooks a lookup.
    IF v_old_status IS NOT NULL THEN
      DELETE FROM order_items WHERE order_id = v_written AND position >= coalesce(cardinality(p_item_sku), 0);
    END IF;
    INSERT INTO order_items (order_id, position, sku, product_id, game_product_id, product_type, quantity,
      completed_quantity, failed_quantity, status, currency, price_amount, subtotal_amount, discount_amount,
      total_amount, failure_code, failure_message)
    SELECT v_written, t.ordinality - 1, t.sku, t.product_id, t.game_product_id, t.product_type, t.quantity,
      t.completed_quantity, t.failed_quantity, t.status, t.currency, t.price_amount, t.subtotal_amount,
      t.discount_amount, t.total_amount, t.failure_code, t.failure_message
      FROM unnest(p_item_sku, p_item_product_id, p_item_game_product_id, p_item_product_type, p_item_quantity,
        p_item_completed_quantity, p_item_failed_quantity, p_item_status, p_item_currency, p_item_price_amount,
        p_item_subtotal_amount, p_item_discount_amount, p_item_total_amount, p_item_failure_code, p_item_failure_message)
        WITH ORDINALITY AS t(sku, product_id, game_product_id, product_type, quantity, completed_quantity, failed_quantity,
          status, currency, price_amount, subtotal_amount, discount_amount, total_amount, failure_code, failure_message, ordinality)
    ON CONFLICT (order_id, position) DO UPDATE SET
      sku = EXCLUDED.sku, product_id = EXCLUDED.product_id, game_product_id = EXCLUDED.game_product_id,
      product_type = EXCLUDED.product_type, quantity = EXCLUDED.quantity,
      completed_quantity = EXCLUDED.completed_quantity, failed_quantity = EXCLUDED.failed_quantity,
      status = EXCLUDED.status, currency = EXCLUDED.currency, price_amount = EXCLUDED.price_amount,
      subtotal_amount = EXCLUDED.subtotal_amount, discount_amount = EXCLUDED.discount_amount,
      total_amount = EXCLUDED.total_amount, failure_code = EXCLUDED.failure_code,
      failure_message = EXCLUDED.failure_message;
    v_decision := CASE WHEN v_old_status IS NOT NULL THEN 'apply' ELSE 'insert' END;
  ELSE
    -- Not written: the stored order is at least as new. Name why (the rarer path, planned afresh
    -- by EXECUTE so that it, too, uses the unique index).
    EXECUTE 'SELECT id, status, provider_status, status_rank, is_final, upstream_updated_at, snapshot_hash
               FROM orders WHERE provider = $1 AND reference = $2'
      INTO v_old_id, v_old_status, v_old_provider_status, v_old_rank, v_old_final, v_old_updated, v_old_hash
      USING p_provider, p_reference;
    v_found := v_old_id IS NOT NULL;
    IF v_found AND NOT (v_old_final AND NOT p_is_final)
        AND v_old_updated = p_upstream_updated_at AND v_old_rank = p_status_rank THEN
      v_decision := CASE WHEN v_old_hash IS NOT DISTINCT FROM p_snapshot_hash THEN 'duplicate' ELSE 'conflict' END;
    ELSE
      v_decision := 'stale';
    END IF;
  END IF;

  v_outcome := CASE v_decision WHEN 'insert' THEN 'applied' WHEN 'apply' THEN 'applied' WHEN 'duplicate' THEN 'duplicate' ELSE 'stale' END;

  IF p_inbox_body_sha256 IS NOT NULL THEN
    INSERT INTO webhook_inbox AS w (provider, body, body_sha256, headers, event_type, reference, order_id, outcome, error, processed_at)
    VALUES (p_provider, p_inbox_body, p_inbox_body_sha256, p_inbox_headers, p_inbox_event_type, p_inbox_reference,
      coalesce(v_written, v_old_id), v_outcome,
      CASE WHEN v_decision = 'conflict'
        THEN 'equal updated_at and status rank but different content: kept the stored snapshot, upstream re-fetch requested' END,
      now())
    -- The same bytes again. A row stored as invalid was never applied, and a replayed row is being
    -- judged again: both take this outcome. Any other row is a redelivery and keeps its own.
    ON CONFLICT (provider, body_sha256) DO UPDATE SET
      outcome = CASE WHEN p_inbox_replay OR w.outcome = 'invalid' THEN EXCLUDED.outcome ELSE w.outcome END,
      error = CASE WHEN p_inbox_replay OR w.outcome = 'invalid' THEN EXCLUDED.error ELSE w.error END,
      order_id = CASE WHEN p_inbox_replay OR w.outcome = 'invalid' THEN EXCLUDED.order_id ELSE w.order_id END,
      processed_at = CASE WHEN p_inbox_replay OR w.outcome = 'invalid' THEN EXCLUDED.processed_at ELSE w.processed_at END,
      delivery_count = w.delivery_count + CASE WHEN p_inbox_replay THEN 0 ELSE 1 END,
      last_received_at = CASE WHEN p_inbox_replay THEN w.last_received_at ELSE now() END,
      replay_count = w.replay_count + CASE WHEN p_inbox_replay THEN 1 ELSE 0 END
    RETURNING w.id, w.xmax = 0, (SELECT p.outcome FROM webhook_inbox p WHERE p.id = w.id)
      INTO v_inbox_id, v_inbox_inserted, v_inbox_previous;
    -- A redelivery's snapshot was merged before and the stored order only moves forward, so the
    -- merge above wrote nothing; it is answered as a duplicate.
    v_redelivery := NOT v_inbox_inserted AND NOT p_inbox_replay AND v_inbox_previous <> 'invalid' AND v_written IS NULL;
    IF v_redelivery THEN
      RETURN QUERY SELECT 'redelivery'::text, 'duplicate'::text, NULL::bigint, v_inbox_id;
      RETURN;
    END IF;
  END IF;

  -- Two snapshots tie but disagree: keep what is stored, and have the reconciler ask the upstream.
  IF v_decision = 'conflict' THEN
    PERFORM om_request_refetch(v_old_id);
  END IF;

  -- One history row per status change, linked to the delivery that made it.
  IF v_written IS NOT NULL AND v_old_provider_status IS DISTINCT FROM p_provider_status THEN
    INSERT INTO order_status_history (order_id, from_status, to_status, from_provider_status, to_provider_status,
      source, inbox_id, upstream_updated_at)
    VALUES (v_written, v_old_status, p_status, v_old_provider_status, p_provider_status, p_source, v_inbox_id, p_upstream_updated_at);
  END IF;

  RETURN QUERY SELECT v_decision, v_outcome, coalesce(v_written, v_old_id), v_inbox_id;
END
$$;
