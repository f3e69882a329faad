import type { Provider } from '../domain/order.js'
import type { Queryable } from './orders-repository.js'

export const INBOX_OUTCOMES = ['applied', 'duplicate', 'stale', 'ignored', 'invalid'] as const
export type InboxOutcome = typeof INBOX_OUTCOMES[number]

export interface InboxEntry {
  provider: Provider
  /** The exact bytes that were signed. */
  body: Buffer
  bodySha256: Buffer
  headers: Record<string, string>
  eventType: string | null
  reference: string | null
}

export interface InboxInsertResult {
  id: string
  /** False when these exact bytes were already stored: a redelivery. */
  inserted: boolean
  /** The row's outcome after the statement: the one given when inserted, the earlier one on a redelivery. */
  outcome: InboxOutcome
}

/**
 * Stores a verified delivery, or counts a redelivery of the same bytes on the row already there.
 * The row starts with the outcome the caller expects; setOutcome corrects it in the same
 * transaction when the merge decides otherwise.
 */
export async function insertInboxEntry (client: Queryable, entry: InboxEntry, outcome: InboxOutcome, error: string | null = null): Promise<InboxInsertResult> {
  const result = await client.query<{ id: string, inserted: boolean, outcome: InboxOutcome }>(`
    INSERT INTO webhook_inbox (provider, body, body_sha256, headers, event_type, reference, outcome, error, processed_at)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, now())
    ON CONFLICT (provider, body_sha256) DO UPDATE
      SET delivery_count = webhook_inbox.delivery_count + 1, last_received_at = now()
    RETURNING id, (xmax = 0) AS inserted, outcome`,
  [entry.provider, entry.body, entry.bodySha256, JSON.stringify(entry.headers), entry.eventType, entry.reference, outcome, error])
  const row = result.rows[0]
  if (!row) throw new Error('inbox insert returned no row')
  return { id: row.id, inserted: row.inserted, outcome: row.outcome }
}

export async function setInboxOutcome (client: Queryable, id: string, outcome: InboxOutcome, error: string | null, orderId: string | null): Promise<void> {
  await client.query(
    'UPDATE webhook_inbox SET outcome = $2, error = $3, order_id = COALESCE($4::bigint, order_id), processed_at = now() WHERE id = $1',
    [id, outcome, error, orderId])
}

/** Counts a replay on the stored row and locks it for the rest of the transaction, so two replays of one row queue. */
export async function markInboxReplayed (client: Queryable, id: string): Promise<void> {
  const result = await client.query('UPDATE webhook_inbox SET replay_count = replay_count + 1 WHERE id = $1', [id])
  if (result.rowCount !== 1) throw new Error(`inbox row ${id} does not exist`)
}

export interface StoredInboxRow extends InboxEntry {
  id: string
  outcome: InboxOutcome
  receivedAt: Date
}

export interface InboxRowFilter {
  outcome: InboxOutcome
  provider?: Provider
  /** Only rows received at or after this time. */
  since?: Date
  /** Keyset cursor: only rows with a larger id. */
  afterId?: string
  limit: number
}

/** Stored deliveries in the order they arrived, one page at a time. */
export async function listInboxRows (client: Queryable, filter: InboxRowFilter): Promise<StoredInboxRow[]> {
  const result = await client.query<{
    id: string
    provider: Provider
    body: Buffer
    body_sha256: Buffer
    headers: Record<string, string>
    event_type: string | null
    reference: string | null
    outcome: InboxOutcome
    received_at: Date
  }>(`SELECT id, provider, body, body_sha256, headers, event_type, reference, outcome, received_at
        FROM webhook_inbox
       WHERE outcome = $1
         AND ($2::text IS NULL OR provider = $2)
         AND ($3::timestamptz IS NULL OR received_at >= $3)
         AND ($4::bigint IS NULL OR id > $4)
       ORDER BY id
       LIMIT $5`,
  [filter.outcome, filter.provider ?? null, filter.since ?? null, filter.afterId ?? null, filter.limit])
  return result.rows.map((row) => ({
    id: row.id,
    provider: row.provider,
    body: row.body,
    bodySha256: row.body_sha256,
    headers: row.headers,
    eventType: row.event_type,
    reference: row.reference,
    outcome: row.outcome,
    receivedAt: row.received_at
  }))
}

/**
 * Deletes up to `limit` rows received before `cutoff`. Bounded so a large backlog is removed in
 * short statements that never hold many row locks against concurrent deliveries.
 */
export async function deleteInboxReceivedBefore (client: Queryable, cutoff: Date, limit: number): Promise<number> {
  const result = await client.query(`
    DELETE FROM webhook_inbox WHERE id IN (
      SELECT id FROM webhook_inbox WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  [cutoff, limit])
  return result.rowCount ?? 0
}
