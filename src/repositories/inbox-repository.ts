import type { Provider } from '../domain/order.js'
import type { Queryable } from '../db/queryable.js'

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

interface InboxRowColumns {
  id: string
  provider: Provider
  body: Buffer
  body_sha256: Buffer
  headers: Record<string, string>
  event_type: string | null
  reference: string | null
  outcome: InboxOutcome
  received_at: Date
}

const INBOX_ROW_COLUMNS = 'id, provider, body, body_sha256, headers, event_type, reference, outcome, received_at'

function toStoredInboxRow (row: InboxRowColumns): StoredInboxRow {
  return {
    id: row.id,
    provider: row.provider,
    body: row.body,
    bodySha256: row.body_sha256,
    headers: row.headers,
    eventType: row.event_type,
    reference: row.reference,
    outcome: row.outcome,
    receivedAt: row.received_at
  }
}

/** Stored deliveries in the order they arrived, one page at a time. */
export async function listInboxRows (client: Queryable, filter: InboxRowFilter): Promise<StoredInboxRow[]> {
  const result = await client.query<InboxRowColumns>(`SELECT ${INBOX_ROW_COLUMNS}
        FROM webhook_inbox
       WHERE outcome = $1
         AND ($2::text IS NULL OR provider = $2)
         AND ($3::timestamptz IS NULL OR received_at >= $3)
         AND ($4::bigint IS NULL OR id > $4)
       ORDER BY id
       LIMIT $5`,
  [filter.outcome, filter.provider ?? null, filter.since ?? null, filter.afterId ?? null, filter.limit])
  return result.rows.map(toStoredInboxRow)
}

/** One stored delivery by its id (a decimal string within bigint), or null. */
export async function findInboxRow (client: Queryable, id: string): Promise<StoredInboxRow | null> {
  const result = await client.query<InboxRowColumns>(`SELECT ${INBOX_ROW_COLUMNS} FROM webhook_inbox WHERE id = $1`, [id])
  const row = result.rows[0]
  return row === undefined ? null : toStoredInboxRow(row)
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

/**
 * When each of `providerNames`' latest delivery arrived (ISO-8601); providers that never sent one
 * are absent. Readiness asks on every probe and scrape, so this must not scan the inbox: per
 * provider, an index led by provider answers whether it has any row at all, and
 * only then is the received_at index walked backwards to that provider's newest row. A provider
 * that is absent stays free, and one that is present is found after the rows that arrived since
 * its latest, which inbox retention bounds.
 */
export async function lastReceivedByProvider (client: Queryable, providerNames: readonly string[]): Promise<Record<string, string>> {
  const result = await client.query<{ provider: string, last: Date | null }>(`
    SELECT p.provider,
           (SELECT received_at FROM webhook_inbox i WHERE i.provider = p.provider ORDER BY received_at DESC LIMIT 1) AS last
      FROM unnest($1::text[]) AS p(provider)
     WHERE EXISTS (SELECT 1 FROM webhook_inbox e WHERE e.provider = p.provider)`,
  [providerNames])
  return Object.fromEntries(result.rows.flatMap((row) => row.last === null ? [] : [[row.provider, row.last.toISOString()]]))
}
