import type { FastifyInstance } from 'fastify'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { decideMerge } from '../../src/domain/merge.js'
import { snapshotHash, type OrderSnapshot } from '../../src/domain/order.js'
import { gamesoOrderToSnapshot, gamesoStatusRank, isFinalGameSoStatus } from '../../src/providers/gameso/gameso-mapping.js'
import { GAMESO_STATUSES, gamesoOrderSchema, type GameSoOrder, type GameSoStatus } from '../../src/providers/gameso/gameso-schemas.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'

// SPEC §3: whatever order webhooks and polls arrive in — duplicated, reordered, concurrent — each
// stored order converges to its newest upstream snapshot, and its history never goes backwards.

interface StepPlan {
  /** Seconds after the previous snapshot; 0 is a tie, allowed only when the status moves up. */
  advanceSeconds: number
  statusMoves: boolean
  finalIsFailure: boolean
  itemCount: number
  /** Extra deliveries of the same webhook bytes. */
  duplicates: number
  /** Delivered as a reconciler poll instead of a webhook. */
  asPoll: boolean
}

interface Snapshot { order: GameSoOrder, duplicates: number, asPoll: boolean }

const stepArbitrary = fc.record({
  advanceSeconds: fc.integer({ min: 0, max: 3 }),
  statusMoves: fc.boolean(),
  finalIsFailure: fc.boolean(),
  itemCount: fc.integer({ min: 1, max: 3 }),
  duplicates: fc.integer({ min: 0, max: 2 }),
  asPoll: fc.integer({ min: 0, max: 4 }).map((draw) => draw === 0)
})

const NEXT: Record<GameSoStatus, GameSoStatus | null> = { pending: 'processing', processing: 'completed', completed: null, failed: null }

/** One order's upstream history: increasing (updated_at, rank), a plausible status path, ties included. */
function buildHistory (reference: string, startsProcessing: boolean, steps: StepPlan[]): Snapshot[] {
  const history: Snapshot[] = []
  let status: GameSoStatus = startsProcessing ? 'processing' : 'pending'
  let clock = Date.parse('2026-07-01T00:00:00.000Z')
  for (const [index, step] of steps.entries()) {
    if (index > 0) {
      if (isFinalGameSoStatus(status)) break
      const next: GameSoStatus | null = NEXT[status]
      const moves = step.statusMoves && next !== null
      if (moves) status = next === 'completed' && step.finalIsFailure ? 'failed' : next
      // Equal clocks are only a clean tie when the rank rises; equal rank and clock is a conflict.
      clock += (moves ? step.advanceSeconds : Math.max(1, step.advanceSeconds)) * 1000
    }
    history.push({ order: gamesoOrder(reference, status, new Date(clock), { itemCount: step.itemCount }), duplicates: step.duplicates, asPoll: step.asPoll })
  }
  return history
}

const historyArbitrary = fc.record({
  startsProcessing: fc.boolean(),
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 6 })
})

const runArbitrary = fc.array(historyArbitrary, { minLength: 1, maxLength: 3 }).chain((histories) => {
  const deliveryCount = histories.reduce((sum, history) => sum + history.steps.reduce((inner, step) => inner + 1 + step.duplicates, 0), 0)
  return fc.record({
    histories: fc.constant(histories),
    // A random priority per delivery: sorting by it is a uniformly random permutation.
    priorities: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: deliveryCount, maxLength: deliveryCount })
  })
})

describe('monotonic merge property (real PostgreSQL, webhooks over HTTP and polls through OrderSync)', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let sync: OrderSync
  let run = 0

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    app = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET }), { db: database.db })
    sync = new OrderSync(database.db, 60_000)
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('converges every order to its newest snapshot, whatever the delivery order, duplicates and concurrency', async () => {
    await fc.assert(fc.asyncProperty(runArbitrary, async ({ histories, priorities }) => {
      // Fresh references per run (and per shrink attempt), so runs never see each other's rows.
      const prefix = `prop-${run++}`
      const orders = histories.map((plan, index) => buildHistory(`${prefix}-${index}`, plan.startsProcessing, plan.steps))

      const deliveries = orders.flatMap((history) => history.flatMap((snapshot) => {
        const body = webhookBody(snapshot.order)
        const send = snapshot.asPoll
          ? async () => { await sync.applySnapshot(gamesoOrderToSnapshot(gamesoOrderSchema.parse(snapshot.order)), { source: 'poll' }) }
          : async () => {
            const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body), payload: body })
            expect(response.statusCode).toBe(200)
          }
        return Array.from({ length: 1 + snapshot.duplicates }, () => send)
      }))
      const shuffled = deliveries.map((send, index) => ({ send, priority: priorities[index] ?? 0 })).sort((a, b) => a.priority - b.priority)
      await Promise.all(shuffled.map(({ send }) => send()))

      for (const history of orders) {
        const newest = history.at(-1)?.order
        if (!newest) throw new Error('a history always has a snapshot')
        const { rows: [stored] } = await database.db.pool.query(
          'SELECT id, status, upstream_updated_at, snapshot_hash FROM orders WHERE provider = $1 AND reference = $2', ['gameso', newest.reference_id])
        expect(stored).toMatchObject({ status: newest.status, snapshot_hash: snapshotHash(gamesoOrderToSnapshot(gamesoOrderSchema.parse(newest))) })
        expect(stored.upstream_updated_at.toISOString()).toBe(newest.updated_at)
        const items = await database.db.pool.query('SELECT sku, status FROM order_items WHERE order_id = $1 ORDER BY position', [stored.id])
        expect(items.rows).toEqual(newest.items.map((item) => ({ sku: item.sku, status: item.status })))

        const { rows: changes } = await database.db.pool.query<{ from_status: string | null, to_status: GameSoStatus, upstream_updated_at: Date }>(
          'SELECT from_status, to_status, upstream_updated_at FROM order_status_history WHERE order_id = $1 ORDER BY id', [stored.id])
        expect(changes[0]?.from_status).toBeNull()
        expect(changes.at(-1)?.to_status).toBe(newest.status)
        for (let index = 1; index < changes.length; index++) {
          const before = changes[index - 1]!
          const after = changes[index]!
          expect(after.from_status).toBe(before.to_status)
          expect(gamesoStatusRank(after.to_status)).toBeGreaterThan(gamesoStatusRank(before.to_status))
          expect(after.upstream_updated_at.getTime()).toBeGreaterThanOrEqual(before.upstream_updated_at.getTime())
        }

        const { rows: inbox } = await database.db.pool.query<{ outcome: string, delivery_count: number }>(
          'SELECT outcome, delivery_count FROM webhook_inbox WHERE reference = $1', [newest.reference_id])
        const webhooks = history.filter((snapshot) => !snapshot.asPoll)
        expect(inbox).toHaveLength(webhooks.length)
        expect(inbox.map((row) => row.delivery_count).sort()).toEqual(webhooks.map((snapshot) => 1 + snapshot.duplicates).sort())
        for (const row of inbox) expect(['applied', 'stale']).toContain(row.outcome)
      }
    }), { numRuns: 40 })
  })
})

describe('the merge in SQL (om_merge_snapshot) against decideMerge, over every pair of states', () => {
  let database: TestDatabase
  let sync: OrderSync

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 10 })
    sync = new OrderSync(database.db, 60_000)
  })
  afterAll(async () => { await database.drop() })

  const CLOCKS = ['2026-07-01T00:00:01.000Z', '2026-07-01T00:00:02.000Z']
  const VARIANTS = ['a', 'b']

  function snapshot (reference: string, status: GameSoStatus, clock: string, variant: string): OrderSnapshot {
    return gamesoOrderToSnapshot(gamesoOrderSchema.parse(gamesoOrder(reference, status, clock, { overrides: { user_id: `user-${variant}` } })))
  }

  it('names the same decision and writes exactly when decideMerge says the snapshot wins', async () => {
    type Stored = { status: GameSoStatus, clock: string | null, variant: string }
    const stored: Stored[] = [
      // A local placeholder (recorded by a create, never seen upstream) has no clock.
      { status: 'pending', clock: null, variant: 'a' },
      ...GAMESO_STATUSES.flatMap((status) => CLOCKS.flatMap((clock) => VARIANTS.map((variant) => ({ status, clock, variant }))))
    ]
    const incoming = GAMESO_STATUSES.flatMap((status) => CLOCKS.flatMap((clock) => VARIANTS.map((variant) => ({ status, clock, variant }))))
    const cases = stored.flatMap((before) => incoming.flatMap((after) => [false, true].map((authoritative) => ({ before, after, authoritative }))))
    const prefix = 'pair'

    const mismatches: string[] = []
    for (let start = 0; start < cases.length; start += 32) {
      await Promise.all(cases.slice(start, start + 32).map(async ({ before, after, authoritative }, offset) => {
        const reference = `${prefix}-${start + offset}`
        let storedHash: string | null = null
        if (before.clock === null) {
          await database.db.pool.query(
            "INSERT INTO orders (provider, reference, status, provider_status, status_rank, is_final, last_source) VALUES ('gameso', $1, 'pending', 'pending', 1, false, 'create')",
            [reference])
        } else {
          const first = snapshot(reference, before.status, before.clock, before.variant)
          storedHash = snapshotHash(first)
          await sync.applySnapshot(first, { source: 'webhook' })
        }
        const next = snapshot(reference, after.status, after.clock, after.variant)
        const nextHash = snapshotHash(next)
        const expected = decideMerge(
          { updatedAtMs: before.clock === null ? null : Date.parse(before.clock), rank: gamesoStatusRank(before.status), isFinal: isFinalGameSoStatus(before.status), hash: storedHash },
          { updatedAtMs: Date.parse(after.clock), rank: gamesoStatusRank(after.status), isFinal: isFinalGameSoStatus(after.status), hash: nextHash },
          { authoritative })

        const result = await sync.applySnapshot(next, { source: 'poll', authoritative })
        const { rows: [row] } = await database.db.pool.query('SELECT snapshot_hash, refetch_requested FROM orders WHERE reference = $1', [reference])
        const written = row.snapshot_hash === nextHash && storedHash !== nextHash
        const label = `${before.status}@${before.clock ?? 'none'}#${before.variant} ← ${after.status}@${after.clock}#${after.variant}${authoritative ? ' (authoritative)' : ''}`
        if (result.decision !== expected) mismatches.push(`${label}: SQL said ${result.decision}, decideMerge ${expected}`)
        if (written !== (expected === 'apply')) mismatches.push(`${label}: written=${written} for ${expected}`)
        if (row.refetch_requested !== (expected === 'conflict')) mismatches.push(`${label}: refetch_requested=${row.refetch_requested} for ${expected}`)
      }))
    }
    expect(mismatches).toEqual([])
  })
})
