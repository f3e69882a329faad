-- Hand-written: partial indexes, which the Prisma schema language cannot express.

-- The reconciler claims the due orders of the providers it polls (GameSO only, for now). With the
-- provider leading, due orders of a provider nobody polls are never stepped over by the claim;
-- this replaces the provider-less index of the first migration, which no query needs any more.
DROP INDEX "orders_due_for_poll_idx";
CREATE INDEX "orders_due_for_poll_by_provider_idx" ON "orders"("provider", "next_poll_at") WHERE "reconcile_state" = 'active';

-- Orders the reconciler stopped following without a final state are counted at every readiness
-- probe and metrics scrape; they are few, so this keeps the count off a scan of every order.
CREATE INDEX "orders_unresolved_idx" ON "orders"("reconcile_state", "provider") WHERE "reconcile_state" IN ('abandoned', 'not_found_upstream');
