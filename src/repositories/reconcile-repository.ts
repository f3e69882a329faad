import type { Queryable } from '../db/queryable.js'
import type { Provider } from '../domain/order.js'
import { storableTextOrNull } from '../domain/text.js'

/** An order this instance holds the poll lease of. */
export interface ClaimedOrder {
  id: string
  provider: Provider
  reference: string
  /** Polls since the order last changed, before this one. */
  pollAttempts: number
  notFoundCount: number
  /** Two snapshots tied and disagreed: this poll settles it. */
  refetchRequested: boolean
}

export interface ClaimOptions {
  /** One provider per claim: the due index is then read in next_poll_at order, with no sort. */
  provider: Provider
  limit: number
  /** How long the claim keeps every other instance off these orders. */
  leaseMs: number
  /** Written to lease_owner; every later write of this poll is fenced by it. */
  owner: string
}

/**
 * Claims up to `limit` due orders in one statement. The lease is next_poll_at pushed `leaseMs`
 * ahead: other instances' claims skip the orders without a transaction held open across the
 * HTTP calls, and a crashed instance's orders come due again when the lease runs out.
 * SKIP LOCKED lets concurrent claims take disjoint sets instead of queueing on each other.
 * The claim takes over a pending re-fetch request, so one made while the poll is under way
 * (a webhook tie against what the poll is about to store) is seen afterwards, not wiped.
 */
export async function claimDueOrders (client: Queryable, options: ClaimOptions): Promise<ClaimedOrder[]> {
  const result = await client.query<{
    id: string
    provider: Provider
    reference: string
    poll_attempts: number
    not_found_count: number
    refetch_requested: boolean
  }>(`
    UPDATE orders o
       SET next_poll_at = now() + make_interval(secs => $3::float8 / 1000), lease_owner = $4, refetch_requested = false
      FROM (SELECT id, refetch_requested FROM orders
             WHERE reconcile_state = 'active' AND provider = $1 AND next_poll_at <= now()
             ORDER BY next_poll_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED) due
     WHERE o.id = due.id
    RETURNING o.id, o.provider, o.reference, o.poll_attempts, o.not_found_count, due.refetch_requested`,
  [options.provider, options.limit, options.leaseMs, options.owner])
  return result.rows.map((row) => ({
    id: row.id,
    provider: row.provider,
    reference: row.reference,
    pollAttempts: row.poll_attempts,
    notFoundCount: row.not_found_count,
    refetchRequested: row.refetch_requested
  }))
}

export type ReconcileState = 'active' | 'final' | 'abandoned' | 'not_found_upstream'

export interface PollOutcome {
  /** The upstream answered with the order (whether or not it changed anything). */
  found: boolean
  /** The upstream answered that it has no such order. */
  notFound: boolean
  /** 1 when this poll counts towards the backoff; 0 when it was not the order's fault (429). */
  attemptIncrement: 0 | 1
  /** Next poll this far ahead; null keeps the schedule the merge just wrote. */
  delayMs: number | null
  error: string | null
  /** The order was claimed for a re-fetch and this poll brought no answer: keep it asked for. */
  refetchStillNeeded: boolean
}

export interface FinishOptions {
  notFoundLimit: number
  giveUpAfterMs: number
}

/**
 * Records a poll and schedules the next one, or ends the following: a final order stops being
 * polled, an order GameSO keeps not finding becomes not_found_upstream, and one followed past
 * the give-up time becomes abandoned. Fenced by the lease owner, so a poll whose lease ran out
 * cannot overwrite what the instance now holding the order wrote. Returns the order's state
 * afterwards, or null when the lease was lost (or the order deleted).
 */
export async function finishPoll (client: Queryable, id: string, owner: string, outcome: PollOutcome, options: FinishOptions): Promise<ReconcileState | null> {
  // Both CASEs read the row version the update locked (a CTE would read an older snapshot), and
  // the lease check sits in the UPDATE's own WHERE so PostgreSQL re-checks it on that version.
  // refetch_requested set now means a webhook tie came in while this poll was under way (the claim
  // cleared the flag): the order stays followed and is polled again at once.
  const nextState = `CASE WHEN is_final AND NOT (refetch_requested OR $10::boolean) THEN 'final'
                          WHEN $3::boolean AND not_found_count + 1 >= $6 THEN 'not_found_upstream'
                          WHEN NOT is_final AND now() - tracking_since >= make_interval(secs => $7::float8 / 1000) THEN 'abandoned'
                          ELSE 'active' END`
  const result = await client.query<{ reconcile_state: ReconcileState }>(`
    UPDATE orders
       SET reconcile_state = ${nextState},
           next_poll_at = CASE WHEN ${nextState} <> 'active' THEN NULL
                               WHEN refetch_requested THEN now()
                               WHEN $5::float8 IS NULL THEN next_poll_at
                               ELSE now() + make_interval(secs => $5::float8 / 1000) END,
           poll_attempts = poll_attempts + $4,
           not_found_count = CASE WHEN $3::boolean THEN not_found_count + 1 WHEN $2::boolean THEN 0 ELSE not_found_count END,
           refetch_requested = refetch_requested OR $10::boolean,
           last_polled_at = now(),
           last_poll_error = $9,
           lease_owner = NULL
     WHERE id = $1 AND lease_owner = $8
    RETURNING reconcile_state`,
  [id, outcome.found, outcome.notFound, outcome.attemptIncrement, outcome.delayMs, options.notFoundLimit, options.giveUpAfterMs,
    // The error may quote GameSO's answer, which can hold anything: it is stored as text either way.
    owner, storableTextOrNull(outcome.error), outcome.refetchStillNeeded])
  return result.rows[0]?.reconcile_state ?? null
}

/**
 * Gives back an order whose poll was never sent (shutdown, or the client paused past the lease):
 * it is due again after `delayMs`, with nothing counted against it.
 */
export async function releaseClaim (client: Queryable, id: string, owner: string, delayMs: number): Promise<boolean> {
  const result = await client.query(`
    UPDATE orders SET next_poll_at = now() + make_interval(secs => $3::float8 / 1000), lease_owner = NULL
     WHERE id = $1 AND lease_owner = $2 AND reconcile_state = 'active'`,
  [id, owner, delayMs])
  return (result.rowCount ?? 0) > 0
}

/** The orders the reconciler of one provider follows, as one statement reads them. */
export interface FollowedOrders {
  /** Followed orders whose poll time has come. */
  due: number
  /** Followed orders waiting for their next poll. */
  waiting: number
  /** How long the most overdue order has been due, unrounded; 0 when none is. */
  overdueSeconds: number
  /** Age of the order followed the longest without reaching a final state; null when none is. */
  oldestFollowedSeconds: number | null
}

export async function followedOrders (client: Queryable, provider: Provider): Promise<FollowedOrders> {
  const result = await client.query<{ due: string, waiting: string, overdue_seconds: number | null, oldest_seconds: number | null }>(`
    SELECT count(*) FILTER (WHERE next_poll_at <= now()) AS due,
           count(*) FILTER (WHERE next_poll_at > now()) AS waiting,
           extract(epoch FROM now() - min(next_poll_at) FILTER (WHERE next_poll_at <= now()))::float8 AS overdue_seconds,
           extract(epoch FROM now() - min(tracking_since))::float8 AS oldest_seconds
      FROM orders WHERE reconcile_state = 'active' AND provider = $1`, [provider])
  const row = result.rows[0]
  return {
    due: Number(row?.due ?? 0),
    waiting: Number(row?.waiting ?? 0),
    overdueSeconds: row?.overdue_seconds ?? 0,
    oldestFollowedSeconds: row?.oldest_seconds ?? null
  }
}

/** Orders no longer followed without a final state (still readable, can be tracked again). */
export interface UnresolvedOrders {
  abandoned: number
  notFoundUpstream: number
}

/** Unresolved orders of one provider, or of every provider when none is named. */
export async function unresolvedOrders (client: Queryable, provider?: Provider): Promise<UnresolvedOrders> {
  const result = await client.query<{ reconcile_state: string, count: string }>(`
    SELECT reconcile_state, count(*) AS count FROM orders
     WHERE reconcile_state IN ('abandoned', 'not_found_upstream') AND ($1::text IS NULL OR provider = $1)
     GROUP BY reconcile_state`, [provider ?? null])
  const count = (state: string) => Number(result.rows.find((entry) => entry.reconcile_state === state)?.count ?? 0)
  return { abandoned: count('abandoned'), notFoundUpstream: count('not_found_upstream') }
}
