-- Hand-written: merchant webhook endpoints, the order changes log (the changes feed and the source
-- of every merchant webhook event), and the outbox of deliveries (SPEC §2.4, §2.5).

CREATE TABLE "merchant_webhook_endpoints" (
    "id" BIGSERIAL NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "events" JSONB NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL DEFAULT 'active',
    "max_retries" INTEGER NOT NULL DEFAULT 8,
    "retry_delay" INTEGER NOT NULL DEFAULT 60,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merchant_webhook_endpoints_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "order_changes" (
    "id" BIGSERIAL NOT NULL,
    "transaction_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "history_id" BIGINT NOT NULL,
    "provider" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    "order_snapshot" JSONB NOT NULL,

    CONSTRAINT "order_changes_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "order_changes_transaction_id_id_idx" ON "order_changes" ("transaction_id", "id");
-- No foreign key to orders: the changes are a log, kept as they were written even when an order
-- row goes (a create placeholder the upstream refused is deleted after its `pending` change).
CREATE INDEX "order_changes_order_id_idx" ON "order_changes" ("order_id");

CREATE TABLE "merchant_webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "endpoint_id" BIGINT NOT NULL,
    "change_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "event" TEXT NOT NULL,
    "webhook_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "retry_base" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leased_until" TIMESTAMPTZ(3),
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merchant_webhook_deliveries_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "merchant_webhook_deliveries_webhook_id_key" ON "merchant_webhook_deliveries" ("webhook_id");
CREATE INDEX "merchant_webhook_deliveries_endpoint_id_id_idx" ON "merchant_webhook_deliveries" ("endpoint_id", "id");
CREATE INDEX "merchant_webhook_deliveries_change_id_idx" ON "merchant_webhook_deliveries" ("change_id");
ALTER TABLE "merchant_webhook_deliveries" ADD CONSTRAINT "merchant_webhook_deliveries_endpoint_id_fkey"
  FOREIGN KEY ("endpoint_id") REFERENCES "merchant_webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "merchant_webhook_deliveries" ADD CONSTRAINT "merchant_webhook_deliveries_change_id_fkey"
  FOREIGN KEY ("change_id") REFERENCES "order_changes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The worker's two questions, each answered from undelivered rows only (delivered ones, nearly all
-- of the table, pay for neither): which deliveries are due, and is an older one of the same
-- (endpoint, order) still undelivered (then the newer one waits, so it never overtakes it).
CREATE INDEX "merchant_webhook_deliveries_due_idx" ON "merchant_webhook_deliveries" ("next_attempt_at", "id")
  WHERE "status" IN ('pending', 'failed');
CREATE INDEX "merchant_webhook_deliveries_undelivered_idx" ON "merchant_webhook_deliveries" ("endpoint_id", "order_id", "id")
  WHERE "status" <> 'delivered';

-- Every status change, from whichever statement writes the history (om_merge_batch for webhooks,
-- polls, creates, syncs and read-throughs; registerOrder for create and track placeholders), gets
-- its change row and one outbox row per subscribed endpoint in that statement's own transaction:
-- a statement-level trigger over the history rows it inserted, so the merge path is unchanged and
-- pays one set-based statement per batch, not one per row.
--
-- AFTER triggers run once the whole statement is done, so the order row and its items read here
-- are those the change produced: `order_snapshot` is the order as the read API renders it at that
-- change (numerics as text so no amount passes through a float; the columns of both read shapes).
--
-- transaction_id is the writing transaction's id (xid8 as bigint). The feed serves a change only
-- once every transaction with a lower id has ended (below the reader's snapshot xmin), and pages
-- by (transaction_id, id): a row that commits late always sorts after what a reader could already
-- have been served, which paging by id alone does not give (ids are taken before commit).
CREATE FUNCTION "om_record_order_changes"() RETURNS trigger
LANGUAGE plpgsql
SET jit = off
AS $$
BEGIN
  WITH changes AS (
    INSERT INTO order_changes (transaction_id, order_id, history_id, provider, reference, from_status, to_status, source,
      changed_at, order_snapshot)
    SELECT pg_current_xact_id()::text::bigint, h.order_id, h.id, o.provider, o.reference, h.from_status, h.to_status,
           h.source, h.changed_at,
           jsonb_build_object(
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

CREATE TRIGGER "order_status_history_changes"
  AFTER INSERT ON "order_status_history"
  REFERENCING NEW TABLE AS new_history
  FOR EACH STATEMENT EXECUTE FUNCTION "om_record_order_changes"();
