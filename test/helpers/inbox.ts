import { createHash } from 'node:crypto'
import type pg from 'pg'
import type { Database } from '../../src/db/database.js'
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

/**
 * A GameSO delivery an earlier release stored with `outcome` (say, refused as invalid by a schema
 * bug): the bytes are what GameSO signed, the outcome is what that release decided.
 */
export async function storedEarlier (db: Database, body: Buffer, outcome: InboxOutcome, reference: string | null): Promise<string> {
  const stored = await storeInboxRow(db.pool, {
    provider: 'gameso',
    body,
    bodySha256: createHash('sha256').update(body).digest(),
    headers: { 'content-type': 'application/json' },
    eventType: 'order.completed',
    reference
  }, outcome, outcome === 'invalid' ? 'body.data.items.0.sku: rejected by an old schema' : null)
  return stored.id
}

export async function inboxRow (db: Database, id: string) {
  const { rows } = await db.pool.query('SELECT outcome, error, order_id, replay_count, delivery_count FROM webhook_inbox WHERE id = $1', [id])
  return rows[0]
}

export async function orderStatus (db: Database, reference: string) {
  const { rows } = await db.pool.query('SELECT id, status FROM orders WHERE reference = $1', [reference])
  return rows[0]
}
