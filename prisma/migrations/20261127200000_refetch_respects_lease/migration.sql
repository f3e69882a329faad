-- Hand-written: a tie found while the order is leased to a poll must not make it due at once,
-- or a second instance could claim and poll it while the first poll is still in flight. The flag
-- alone is enough then: finishPoll sees refetch_requested and makes the order due right after.
CREATE OR REPLACE FUNCTION "om_request_refetch"(p_order_id bigint) RETURNS void LANGUAGE sql AS $$
  UPDATE orders
     SET refetch_requested = true,
         reconcile_state = 'active',
         next_poll_at = CASE WHEN lease_owner IS NULL THEN now() ELSE next_poll_at END,
         updated_at = now()
   WHERE id = p_order_id
$$;
