import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OrderSnapshot } from '../../src/domain/order.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoStatus } from '../../src/providers/gameso/gameso-schemas.js'
import type { InboxEntry } from '../../src/repositories/inbox-repository.js'
import type { BatchReport } from '../../src/services/merge-batcher.js'
import { OrderSync, type ApplyResult } from '../../src/services/order-sync.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, webhookBody } from '../helpers/gameso-webhooks.js'

// Everything submitted in one synchronous run is taken into one batch (the batcher takes its
// batch at the end of the turn), so these tests know exactly which deliveries share a transaction.

function snapshot (reference: string, status: GameSoStatus, clock: string, overrides: Record<string, unknown> = {}): OrderSnapshot {
  return gamesoOrderToSnapshot(gamesoOrderSchema.parse(gamesoOrder(reference, status, clock, { itemCount: 2, overrides })))
}

function inboxOf (order: OrderSnapshot, salt = ''): InboxEntry {
  const body = Buffer.from(`${webhookBody(gamesoOrder(order.reference, 'pending', order.upstreamUpdatedAt)).toString('utf8')}${salt}`)
  return { provider: 'gameso', body, bodySha256: createHash('sha256').update(body).digest(), headers: {}, eventType: 'order.updated', reference: order.reference }
}

describe('merge batches against PostgreSQL', () => {
  let database: TestDatabase
  beforeAll(async () => { database = await createTestDatabase({ poolSize: 10 }) })
  afterAll(async () => { await database.drop() })

  function syncWithReports (maxConcurrentBatches = 1): { sync: OrderSync, reports: BatchReport[] } {
    const reports: BatchReport[] = []
    const sync = new OrderSync(database.db, 60_000, { batching: { maxBatchSize: 100, maxConcurrentBatches }, onBatch: (report) => reports.push(report) })
    return { sync, reports }
  }

  async function order (reference: string) {
    const { rows: [row] } = await database.db.pool.query('SELECT id, status, refetch_requested, (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS items FROM orders o WHERE reference = $1', [reference])
    return row
  }

  it('applies and answers the others when one delivery of the batch raises inside the SQL, and answers that one with its own error', async () => {
    const { sync, reports } = syncWithReports()
    const good = ['poison-ok-1', 'poison-ok-2', 'poison-ok-3', 'poison-ok-4'].map((reference) => snapshot(reference, 'processing', '2026-08-01T00:00:00.000Z'))
    // PostgreSQL text cannot hold NUL: the statement raises for the whole batch.
    const poisoned = { ...snapshot('poison-bad', 'failed', '2026-08-01T00:00:00.000Z'), failureMessage: 'broken\u0000message' }
    const submitted = [...good.slice(0, 2), poisoned, ...good.slice(2)]
    const settled = await Promise.allSettled(submitted.map((entry) => sync.applySnapshot(entry, { source: 'webhook', inbox: inboxOf(entry) })))

    expect(reports.map((report) => [report.size, report.error === undefined])).toEqual([[5, false], [1, true], [1, true], [1, false], [1, true], [1, true]])
    const answers = settled.map((result) => result.status === 'fulfilled' ? result.value.outcome : (result.reason as { code?: string }).code)
    expect(answers).toEqual(['applied', 'applied', '22021', 'applied', 'applied'])
    for (const entry of good) expect(await order(entry.reference)).toMatchObject({ status: 'processing', items: 2 })
    expect(await order('poison-bad')).toBeUndefined()
    const { rows: inbox } = await database.db.pool.query<{ reference: string, outcome: string }>(
      "SELECT reference, outcome FROM webhook_inbox WHERE reference LIKE 'poison-%' ORDER BY reference")
    expect(inbox).toEqual(good.map((entry) => ({ reference: entry.reference, outcome: 'applied' })))
  })

  it('decides the deliveries of one order among themselves: one write, one history row, an inbox row and an outcome each', async () => {
    const { sync, reports } = syncWithReports()
    const older = snapshot('batch-one-order', 'pending', '2026-08-02T00:00:01.000Z')
    const newest = snapshot('batch-one-order', 'processing', '2026-08-02T00:00:02.000Z')
    const same = snapshot('batch-one-order', 'processing', '2026-08-02T00:00:02.000Z')
    const disagreeing = snapshot('batch-one-order', 'processing', '2026-08-02T00:00:02.000Z', { user_id: 'someone-else' })
    const other = snapshot('batch-other-order', 'completed', '2026-08-02T00:00:02.000Z')
    const entries = [older, newest, same, disagreeing, other]
    const inboxes = entries.map((entry, index) => inboxOf(entry, ` #${index}`))
    // The same bytes as the first delivery, again: they wait for the next batch.
    const results = await Promise.all([
      ...entries.map((entry, index) => sync.applySnapshot(entry, { source: 'webhook', inbox: inboxes[index]! })),
      sync.applySnapshot(older, { source: 'webhook', inbox: inboxes[0]! })
    ])

    expect(reports.map((report) => report.size)).toEqual([5, 1])
    expect(results.map((result: ApplyResult) => [result.decision, result.outcome])).toEqual([
      ['stale', 'stale'], ['insert', 'applied'], ['duplicate', 'duplicate'], ['conflict', 'stale'], ['insert', 'applied'], ['redelivery', 'duplicate']
    ])
    expect(await order('batch-one-order')).toMatchObject({ status: 'processing', refetch_requested: true, items: 2 })
    const { rows: history } = await database.db.pool.query(
      "SELECT h.from_status, h.to_status, h.inbox_id FROM order_status_history h JOIN orders o ON o.id = h.order_id WHERE o.reference = 'batch-one-order'")
    expect(history).toEqual([{ from_status: null, to_status: 'processing', inbox_id: results[1]!.inboxId }])
    const { rows: inbox } = await database.db.pool.query<{ outcome: string, delivery_count: number }>(
      "SELECT outcome, delivery_count FROM webhook_inbox WHERE reference = 'batch-one-order' ORDER BY outcome, delivery_count")
    // Rows are written in body-hash order, so their ids say nothing of arrival order.
    expect(inbox.map((row) => [row.outcome, row.delivery_count])).toEqual([['applied', 1], ['duplicate', 1], ['stale', 1], ['stale', 2]])
  })

  it('serializes concurrent batches over the same orders without a deadlock, whatever order they hold them in', async () => {
    const first = syncWithReports(2)
    const second = syncWithReports(2)
    const references = Array.from({ length: 20 }, (_unused, index) => `contended-${index}`)
    const rounds = 15
    const submissions: Array<Promise<ApplyResult>> = []
    for (let round = 0; round < rounds; round++) {
      const clock = new Date(Date.parse('2026-08-03T00:00:00.000Z') + round * 1000).toISOString()
      const status: GameSoStatus = round === rounds - 1 ? 'completed' : 'processing'
      // Each side sends the orders in the opposite order of the other, several batches at once.
      for (const reference of references) submissions.push(first.sync.applySnapshot(snapshot(reference, status, clock), { source: 'webhook' }))
      for (const reference of [...references].reverse()) submissions.push(second.sync.applySnapshot(snapshot(reference, status, clock, { user_id: 'second' }), { source: 'poll', authoritative: true }))
    }
    await Promise.all(submissions)
    const failed = [...first.reports, ...second.reports].filter((report) => report.error !== undefined)
    expect(failed).toEqual([])
    expect(Math.max(...[...first.reports, ...second.reports].map((report) => report.size))).toBeGreaterThan(1)
    const { rows } = await database.db.pool.query("SELECT count(*)::int AS completed FROM orders WHERE reference LIKE 'contended-%' AND status = 'completed'")
    expect(rows[0].completed).toBe(references.length)
  })
})
