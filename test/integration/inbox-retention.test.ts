import { createHash } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createDatabase } from '../../src/db/database.js'
import { InboxRetention } from '../../src/services/inbox-retention.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { storeInboxRow } from '../helpers/inbox.js'

const silent = pino({ level: 'silent' })

describe('inbox retention', () => {
  let database: TestDatabase

  beforeAll(async () => { database = await createTestDatabase() })
  afterAll(async () => { await database.drop() })
  // Each test counts the rows it stores, so none starts with another test's rows.
  beforeEach(async () => { await database.db.pool.query('TRUNCATE webhook_inbox') })
  afterEach(() => { vi.useRealTimers() })

  /** The job's schedule on a fake clock; the database and its I/O stay real. */
  const fakeSchedule = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })

  let stored = 0
  async function storeRow (ageDays: number): Promise<string> {
    const body = Buffer.from(`inbox row ${++stored}`)
    const { id } = await storeInboxRow(database.db.pool, {
      provider: 'gameso', body, bodySha256: createHash('sha256').update(body).digest(), headers: {}, eventType: 'order.completed', reference: null
    }, 'applied')
    await database.db.pool.query('UPDATE webhook_inbox SET received_at = now() - make_interval(days => $2) WHERE id = $1', [id, ageDays])
    return id
  }

  /** Rows are stored concurrently, so their ids come in any order; remaining() lists them by id. */
  function byId (ids: string[]): string[] {
    return [...ids].sort((a, b) => Number(a) - Number(b))
  }

  async function remaining (ids: string[]): Promise<string[]> {
    const { rows } = await database.db.pool.query<{ id: string }>('SELECT id FROM webhook_inbox WHERE id = ANY($1::bigint[]) ORDER BY id', [ids])
    return rows.map((row) => row.id)
  }

  it('deletes rows older than the retention period, in batches, and keeps the rest', async () => {
    const old = await Promise.all([40, 31, 31, 90, 365].map(storeRow))
    const kept = await Promise.all([0, 29].map(storeRow))
    const retention = new InboxRetention(database.db, { retentionDays: 30, intervalMs: 60_000, batchSize: 2 }, silent)
    expect(await retention.tick()).toBe(old.length)
    expect(await remaining([...old, ...kept])).toEqual(byId(kept))
    expect(await retention.tick()).toBe(0)
  })

  it('keeps everything when the retention is 0 days', async () => {
    const ids = await Promise.all([400, 1].map(storeRow))
    const retention = new InboxRetention(database.db, { retentionDays: 0, intervalMs: 60_000, batchSize: 100 }, silent)
    retention.start()
    expect(await retention.tick()).toBe(0)
    await retention.stop()
    expect(await remaining(ids)).toEqual(byId(ids))
  })

  it('runs when the app is ready and stops with it (INBOX_RETENTION_DAYS)', async () => {
    const old = await storeRow(8)
    const kept = await storeRow(6)
    fakeSchedule()
    const app = await buildApp(testConfig(database.url, { INBOX_RETENTION_DAYS: '7' }), { db: database.db })
    try {
      await app.ready()
      // Ready schedules the first run at once; nothing has run before the clock moves.
      expect(await remaining([old, kept])).toEqual(byId([old, kept]))
      await vi.advanceTimersByTimeAsync(0)
    } finally {
      // Closing stops the job, which waits for the run under way.
      await app.close()
    }
    expect(await remaining([old, kept])).toEqual([kept])
  })

  it('survives a database that cannot be reached, logging the failed run', async () => {
    const down = createDatabase('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 300 })
    const lines: string[] = []
    const log = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } })
    const retention = new InboxRetention(down, { retentionDays: 1, intervalMs: 60_000, batchSize: 10 }, log)
    try {
      await expect(retention.tick()).rejects.toThrow(/ECONNREFUSED|connect/)
      fakeSchedule()
      retention.start()
      await vi.advanceTimersByTimeAsync(0)
      // stop() waits for the failed run, which logged instead of throwing.
      await retention.stop()
      expect(lines.join('')).toContain('inbox retention run failed')
    } finally {
      await down.close()
    }
  })
})
