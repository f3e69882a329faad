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
}

/**
 * Stores a verified delivery, or counts a redelivery of the same bytes on the row already there.
 * The row starts with the outcome the caller expects; setOutcome corrects it in the same
 * transaction when the merge decides otherwise.
 */
export async function insertInboxEntry (client: Queryable, entry: InboxEntry, outcome: InboxOutcome, error: string | null = null): Promise<InboxInsertResult> {
  const result = await client.query<{ id: string, inserted: boolean }>(`
    INSERT INTO webhook_inbox (provider, body, body_sha256, headers, event_type, reference, outcome, error, processed_at)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, now())
    ON CONFLICT (provider, body_sha256) DO UPDATE
      SET delivery_count = webhook_inbox.delivery_count + 1, last_received_at = now()
    RETURNING id, (xmax = 0) AS inserted`,
  [entry.provider, entry.body, entry.bodySha256, JSON.stringify(entry.headers), entry.eventType, entry.reference, outcome, error])
  const row = result.rows[0]
  if (!row) throw new Error('inbox insert returned no row')
  return { id: row.id, inserted: row.inserted }
}

export async function setInboxOutcome (client: Queryable, id: string, outcome: InboxOutcome, error: string | null, orderId: string | null): Promise<void> {
  await client.query(
    'UPDATE webhook_inbox SET outcome = $2, error = $3, order_id = COALESCE($4::bigint, order_id), processed_at = now() WHERE id = $1',
    [id, outcome, error, orderId])
}
