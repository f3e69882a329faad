import type pg from 'pg'
import type { InboxEntry, InboxOutcome } from '../../src/repositories/inbox-repository.js'

/** A row as an earlier release (or an earlier delivery) left it in the inbox, with whatever outcome it decided. */
export async function storeInboxRow (pool: pg.Pool, entry: InboxEntry, outcome: InboxOutcome, error: string | null = null): Promise<{ id: string }> {
  const { rows: [row] } = await pool.query<{ id: string }>(`
    INSERT INTO webhook_inbox (provider, body, body_sha256, headers, event_type, reference, outcome, error, processed_at)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, now())
    RETURNING id`,
  [entry.provider, entry.body, entry.bodySha256, JSON.stringify(entry.headers), entry.eventType, entry.reference, outcome, error])
  if (!row) throw new Error('inbox insert returned no row')
  return row
}
