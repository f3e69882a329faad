import type { Queryable } from '../db/queryable.js'
import type { OrderSnapshotJson } from '../domain/order-change.js'

// Merchant webhook endpoints and their outbox (merchant_webhook_deliveries). The outbox rows
// themselves are written in the transaction of each change, by om_merge_batch or by the
// order_status_history trigger (migrations 20261202010000_merchant_webhooks and
// 20261202120000_pending_change_snapshots); everything here reads or moves their state. A change
// whose order is still pending is rendered in the statement that reads it (om_order_snapshot).

export interface EndpointRow {
  id: string
  url: string
  secret: string
  events: string[]
  description: string | null
  status: 'active' | 'inactive'
  maxRetries: number
  retryDelay: number
  createdAt: Date
  updatedAt: Date
}

const ENDPOINT_COLUMNS = `id, url, secret, events, description, status, max_retries AS "maxRetries",
  retry_delay AS "retryDelay", created_at AS "createdAt", updated_at AS "updatedAt"`

export interface NewEndpoint {
  url: string
  secret: string
  events: string[]
  description: string | null
  maxRetries: number
  retryDelay: number
}

export type EndpointChanges = Partial<Pick<EndpointRow, 'url' | 'secret' | 'events' | 'description' | 'status' | 'maxRetries' | 'retryDelay'>>

export async function createEndpoint (db: Queryable, endpoint: NewEndpoint): Promise<EndpointRow> {
  const result = await db.query<EndpointRow>(`
    INSERT INTO merchant_webhook_endpoints (url, secret, events, description, max_retries, retry_delay)
    VALUES ($1, $2, $3::jsonb, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
  [endpoint.url, endpoint.secret, JSON.stringify(endpoint.events), endpoint.description, endpoint.maxRetries, endpoint.retryDelay])
  return result.rows[0] as EndpointRow
}

export async function listEndpoints (db: Queryable): Promise<EndpointRow[]> {
  return (await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM merchant_webhook_endpoints ORDER BY id`)).rows
}

export async function findEndpoint (db: Queryable, id: string): Promise<EndpointRow | null> {
  return (await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM merchant_webhook_endpoints WHERE id = $1`, [id])).rows[0] ?? null
}

const CHANGE_COLUMNS: Record<keyof EndpointChanges, string> = {
  url: 'url', secret: 'secret', events: 'events', description: 'description', status: 'status', maxRetries: 'max_retries', retryDelay: 'retry_delay'
}

export async function updateEndpoint (db: Queryable, id: string, changes: EndpointChanges): Promise<EndpointRow | null> {
  const values: unknown[] = [id]
  const sets = ['updated_at = now()']
  for (const [key, value] of Object.entries(changes) as Array<[keyof EndpointChanges, unknown]>) {
    if (value === undefined) continue
    values.push(key === 'events' ? JSON.stringify(value) : value)
    sets.push(`${CHANGE_COLUMNS[key]} = $${values.length}${key === 'events' ? '::jsonb' : ''}`)
  }
  const result = await db.query<EndpointRow>(
    `UPDATE merchant_webhook_endpoints SET ${sets.join(', ')} WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`, values)
  return result.rows[0] ?? null
}

/** Removes the endpoint and, with it, its deliveries (cascade). */
export async function deleteEndpoint (db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM merchant_webhook_endpoints WHERE id = $1', [id])).rowCount ?? 0) > 0
}

/** `410 Gone`: the merchant says the endpoint is no more; its events wait until it is set active again. */
export async function deactivateEndpoint (db: Queryable, id: string): Promise<void> {
  await db.query("UPDATE merchant_webhook_endpoints SET status = 'inactive', updated_at = now() WHERE id = $1", [id])
}

export type DeliveryStatus = 'pending' | 'failed' | 'delivered' | 'exhausted'

export interface DeliveryRow {
  id: string
  webhookId: string
  event: string
  referenceId: string
  status: DeliveryStatus
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  nextAttemptAt: Date | null
  deliveredAt: Date | null
}

const DELIVERY_COLUMNS = `d.id, d.webhook_id AS "webhookId", d.event, c.reference AS "referenceId", d.status, d.attempts,
  d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
  CASE WHEN d.status IN ('pending', 'failed') THEN d.next_attempt_at END AS "nextAttemptAt", d.delivered_at AS "deliveredAt"`

/** The endpoint's most recent deliveries, newest first. */
export async function listDeliveries (db: Queryable, endpointId: string, limit: number): Promise<DeliveryRow[]> {
  return (await db.query<DeliveryRow>(`
    SELECT ${DELIVERY_COLUMNS} FROM merchant_webhook_deliveries d JOIN order_changes c ON c.id = d.change_id
     WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2`, [endpointId, limit])).rows
}

export type RetryOutcome = { retried: DeliveryRow } | { notRetryable: DeliveryStatus } | null

/**
 * Makes a failed or exhausted delivery due at once, with a fresh retry budget. Due at its own
 * creation time rather than the database's now(): that is in the past for any worker's clock, and
 * still behind every other due delivery of the same order (which it must precede anyway).
 */
export async function retryDelivery (db: Queryable, endpointId: string, deliveryId: string): Promise<RetryOutcome> {
  const updated = await db.query<{ id: string }>(`
    UPDATE merchant_webhook_deliveries
       SET status = 'pending', next_attempt_at = created_at, retry_base = attempts, leased_until = NULL
     WHERE id = $2 AND endpoint_id = $1 AND status IN ('failed', 'exhausted')
     RETURNING id`, [endpointId, deliveryId])
  const found = (await db.query<DeliveryRow>(`
    SELECT ${DELIVERY_COLUMNS} FROM merchant_webhook_deliveries d JOIN order_changes c ON c.id = d.change_id
     WHERE d.id = $2 AND d.endpoint_id = $1`, [endpointId, deliveryId])).rows[0]
  if (!found) return null
  return updated.rowCount === 1 || found.status === 'pending' ? { retried: found } : { notRetryable: found.status }
}

/** One claimed delivery: what an attempt needs to build, sign and send it. */
export interface ClaimedDelivery {
  id: string
  webhookId: string
  event: string
  /** Attempts including this one. */
  attempt: number
  retryBase: number
  endpointId: string
  url: string
  secret: string
  maxRetries: number
  retryDelay: number
  provider: string
  order: OrderSnapshotJson
}

/**
 * Leases up to `limit` due deliveries to this attempt. Only the oldest undelivered event of an
 * (endpoint, order) is eligible — while it waits, is in flight or is exhausted, the newer ones of
 * the same order wait behind it — so per order the receiver sees the changes in the order they
 * happened. SKIP LOCKED lets several instances claim at once without waiting for each other; the
 * lease (not a held lock) covers the HTTP attempt, so no connection is held while a merchant
 * answers, and a crashed instance's deliveries become due again when its lease runs out.
 */
export async function claimDueDeliveries (db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const result = await db.query<ClaimedDelivery>(`
    WITH due AS (
      SELECT d.id FROM merchant_webhook_deliveries d
       WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= $1
         AND (d.leased_until IS NULL OR d.leased_until <= $1)
         AND EXISTS (SELECT 1 FROM merchant_webhook_endpoints e WHERE e.id = d.endpoint_id AND e.status = 'active')
         AND NOT EXISTS (
           SELECT 1 FROM merchant_webhook_deliveries older
            WHERE older.endpoint_id = d.endpoint_id AND older.order_id = d.order_id
              AND older.status <> 'delivered' AND older.id < d.id)
       ORDER BY d.next_attempt_at, d.id
       LIMIT $3
       FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE merchant_webhook_deliveries d
       SET leased_until = $2, attempts = d.attempts + 1, last_attempt_at = $1
      FROM due, merchant_webhook_endpoints e, order_changes c
     WHERE d.id = due.id AND e.id = d.endpoint_id AND c.id = d.change_id
    RETURNING d.id, d.webhook_id AS "webhookId", d.event, d.attempts AS attempt, d.retry_base AS "retryBase",
              e.id AS "endpointId", e.url, e.secret, e.max_retries AS "maxRetries", e.retry_delay AS "retryDelay",
              c.provider, coalesce(c.order_snapshot, om_order_snapshot(c.order_id)) AS "order"`, [now, leaseUntil, limit])
  return result.rows
}

/**
 * The result of one attempt. Applied only while the delivery still carries that attempt's number:
 * an attempt that outlived its lease (and was claimed again elsewhere) cannot overwrite the newer one.
 */
export type AttemptResult =
  | { kind: 'delivered', statusCode: number, at: Date }
  | { kind: 'failed', statusCode: number | null, error: string, nextAttemptAt: Date }
  | { kind: 'exhausted', statusCode: number | null, error: string }

export async function recordAttempt (db: Queryable, delivery: Pick<ClaimedDelivery, 'id' | 'attempt'>, result: AttemptResult): Promise<void> {
  if (result.kind === 'delivered') {
    await db.query(`UPDATE merchant_webhook_deliveries
        SET status = 'delivered', delivered_at = $3, leased_until = NULL, last_status_code = $4, last_error = NULL
      WHERE id = $1 AND attempts = $2`, [delivery.id, delivery.attempt, result.at, result.statusCode])
    return
  }
  await db.query(`UPDATE merchant_webhook_deliveries
      SET status = $3, leased_until = NULL, last_status_code = $4, last_error = $5, next_attempt_at = coalesce($6, next_attempt_at)
    WHERE id = $1 AND attempts = $2`,
  [delivery.id, delivery.attempt, result.kind, result.statusCode, result.error, result.kind === 'failed' ? result.nextAttemptAt : null])
}

export interface OutboxStats {
  /** Events not yet delivered (waiting, in flight, failed or exhausted). */
  backlog: number
  /** Age of the oldest of them, 0 when there is none. */
  oldestAgeSeconds: number
  exhausted: number
}

export async function outboxStats (db: Queryable): Promise<OutboxStats> {
  const row = (await db.query<{ backlog: string, oldest: number | null, exhausted: string }>(`
    SELECT count(*) AS backlog, extract(epoch FROM now() - min(created_at))::float8 AS oldest,
           count(*) FILTER (WHERE status = 'exhausted') AS exhausted
      FROM merchant_webhook_deliveries WHERE status <> 'delivered'`)).rows[0]
  return { backlog: Number(row?.backlog ?? 0), oldestAgeSeconds: Math.max(0, row?.oldest ?? 0), exhausted: Number(row?.exhausted ?? 0) }
}

/** An attempt cut short by shutdown: the lease and the attempt are handed back, as if never claimed. */
export async function releaseDelivery (db: Queryable, delivery: Pick<ClaimedDelivery, 'id' | 'attempt'>): Promise<void> {
  await db.query(`UPDATE merchant_webhook_deliveries SET leased_until = NULL, attempts = attempts - 1
    WHERE id = $1 AND attempts = $2`, [delivery.id, delivery.attempt])
}
