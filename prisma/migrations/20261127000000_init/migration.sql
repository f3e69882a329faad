-- CreateTable
CREATE TABLE "orders" (
    "id" BIGSERIAL NOT NULL,
    "provider" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "provider_order_id" TEXT,
    "status" TEXT NOT NULL,
    "provider_status" TEXT NOT NULL,
    "status_rank" SMALLINT NOT NULL,
    "is_final" BOOLEAN NOT NULL DEFAULT false,
    "user_id" TEXT,
    "server_id" TEXT,
    "character_id" TEXT,
    "currency" TEXT,
    "subtotal_amount" DECIMAL,
    "discount_amount" DECIMAL,
    "total_amount" DECIMAL,
    "source_type" TEXT,
    "created_by" JSONB,
    "provider_attributes" JSONB,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "upstream_created_at" TIMESTAMPTZ(3),
    "upstream_updated_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "snapshot_hash" TEXT,
    "last_source" TEXT NOT NULL,
    "reconcile_state" TEXT NOT NULL DEFAULT 'active',
    "next_poll_at" TIMESTAMPTZ(3),
    "poll_attempts" INTEGER NOT NULL DEFAULT 0,
    "not_found_count" INTEGER NOT NULL DEFAULT 0,
    "last_polled_at" TIMESTAMPTZ(3),
    "last_poll_error" TEXT,
    "lease_owner" TEXT,
    "refetch_requested" BOOLEAN NOT NULL DEFAULT false,
    "tracking_since" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_items" (
    "id" BIGSERIAL NOT NULL,
    "order_id" BIGINT NOT NULL,
    "position" INTEGER NOT NULL,
    "sku" TEXT,
    "product_id" TEXT,
    "game_product_id" TEXT,
    "product_type" TEXT,
    "quantity" INTEGER NOT NULL,
    "completed_quantity" INTEGER,
    "failed_quantity" INTEGER,
    "status" TEXT,
    "currency" TEXT,
    "price_amount" DECIMAL,
    "subtotal_amount" DECIMAL,
    "discount_amount" DECIMAL,
    "total_amount" DECIMAL,
    "failure_code" TEXT,
    "failure_message" TEXT,

    CONSTRAINT "order_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_inbox" (
    "id" BIGSERIAL NOT NULL,
    "provider" TEXT NOT NULL,
    "body" BYTEA NOT NULL,
    "body_sha256" BYTEA NOT NULL,
    "headers" JSONB NOT NULL,
    "event_type" TEXT,
    "reference" TEXT,
    "order_id" BIGINT,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "delivery_count" INTEGER NOT NULL DEFAULT 1,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    "replay_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "webhook_inbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_status_history" (
    "id" BIGSERIAL NOT NULL,
    "order_id" BIGINT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "from_provider_status" TEXT,
    "to_provider_status" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "inbox_id" BIGINT,
    "upstream_updated_at" TIMESTAMPTZ(3),
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_status_history_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "orders_status_upstream_updated_at_id_idx" ON "orders"("status", "upstream_updated_at", "id");

-- CreateIndex
CREATE INDEX "orders_upstream_updated_at_id_idx" ON "orders"("upstream_updated_at", "id");

-- CreateIndex
CREATE INDEX "orders_user_id_upstream_updated_at_id_idx" ON "orders"("user_id", "upstream_updated_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "orders_provider_reference_key" ON "orders"("provider", "reference");

-- CreateIndex
CREATE UNIQUE INDEX "order_items_order_id_position_key" ON "order_items"("order_id", "position");

-- CreateIndex
CREATE INDEX "webhook_inbox_provider_reference_received_at_idx" ON "webhook_inbox"("provider", "reference", "received_at");

-- CreateIndex
CREATE INDEX "webhook_inbox_outcome_received_at_idx" ON "webhook_inbox"("outcome", "received_at");

-- CreateIndex
CREATE INDEX "webhook_inbox_received_at_idx" ON "webhook_inbox"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_inbox_provider_body_sha256_key" ON "webhook_inbox"("provider", "body_sha256");

-- CreateIndex
CREATE INDEX "order_status_history_order_id_changed_at_idx" ON "order_status_history"("order_id", "changed_at");

-- AddForeignKey
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_status_history" ADD CONSTRAINT "order_status_history_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: what the Prisma schema language cannot express.

-- The reconciler's due-for-poll scan only ever looks at orders it still follows; final orders
-- (the vast majority over time) stay out of this index, so the claim query costs the same at
-- 10k or 10M rows.
CREATE INDEX "orders_due_for_poll_idx" ON "orders"("next_poll_at") WHERE "reconcile_state" = 'active';

CREATE INDEX "orders_provider_upstream_updated_at_id_idx" ON "orders"("provider", "upstream_updated_at", "id");

ALTER TABLE "orders"
  ADD CONSTRAINT "orders_provider_check" CHECK ("provider" IN ('gameso', 'midasbuy')),
  ADD CONSTRAINT "orders_reconcile_state_check" CHECK ("reconcile_state" IN ('active', 'final', 'abandoned', 'not_found_upstream'));

ALTER TABLE "webhook_inbox"
  ADD CONSTRAINT "webhook_inbox_outcome_check" CHECK ("outcome" IN ('applied', 'duplicate', 'stale', 'ignored', 'invalid'));

ALTER TABLE "order_status_history"
  ADD CONSTRAINT "order_status_history_source_check" CHECK ("source" IN ('webhook', 'poll', 'create', 'manual', 'track'));
