-- Hand-written: every index of the tables each delivery writes must earn its cost. Measured with
-- bench/pgbench/index-cost.ts (bench/README.md), each secondary index costs a merged delivery
-- about 75-140 bytes of WAL and an index insertion; these two served no query, or served it only
-- for a small part of the rows that pay for them.

-- Nothing reads, joins or references order_items.id: items are found by their order, in position
-- order, and replaced by (order_id, position). That key becomes the primary key, and the id
-- column, its sequence and its index go.
ALTER TABLE "order_items" DROP CONSTRAINT "order_items_pkey";
ALTER TABLE "order_items" DROP COLUMN "id";
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_pkey" PRIMARY KEY USING INDEX "order_items_order_id_position_key";

-- Only the replay (npm run inbox:replay) lists inbox rows by outcome, and only the replayable
-- outcomes (REPLAYABLE_OUTCOMES in src/services/inbox-replay.ts), page by page in id order. A
-- partial index on exactly those, keyed by id, reads exactly one page where the old one read and
-- sorted every row of the outcome; applied and duplicate rows, most of the inbox, pay for none.
DROP INDEX "webhook_inbox_outcome_received_at_idx";
CREATE INDEX "webhook_inbox_replayable_idx" ON "webhook_inbox" ("outcome", "id") WHERE "outcome" IN ('invalid', 'ignored', 'stale');
