import type { FastifyInstance } from 'fastify'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { decideMerge } from '../../src/domain/merge.js'
import { snapshotHash, type OrderSnapshot, type Provider } from '../../src/domain/order.js'
import { gamesoOrderToSnapshot, gamesoStatusRank, isFinalGameSoStatus } from '../../src/providers/gameso/gameso-mapping.js'
import { GAMESO_STATUSES, gamesoOrderSchema, type GameSoStatus } from '../../src/providers/gameso/gameso-schemas.js'
import { isFinalMidasBuyStatus, midasbuyOrderToSnapshot, midasbuyStatusRank } from '../../src/providers/midasbuy/midasbuy-mapping.js'
import { MIDASBUY_STATUSES, midasbuyOrderSchema, type MidasBuyStatus } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders as gamesoSigned, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { midasbuyKeys, midasbuyOrder, notificationBody, signedHeaders as midasbuySigned } from '../helpers/midasbuy-notifications.js'
import { propertyParameters } from '../helpers/property.js'

// SPEC §3: whatever order webhooks and polls arrive in — duplicated, reordered, concurrent — each
// stored order converges to its newest upstream snapshot, and its history never goes backwards.
// The same properties for each provider, with its own status ranks: GameSO's pending < processing
// < completed = failed, and MidasBuy's Created < Paid < Finished < Refunded, where Finished is
// final for polling and a later Refunded still applies over it.

/** What the properties need to know about one provider: its statuses, orders, mapping and webhook. */
interface ProviderKit {
  provider: Provider
  statuses: readonly string[]
  /** Where a history starts: the first status, or (`later`) the one after it. */
  first: (later: boolean) => string
  /** The status a history moves to next (`alternative`: GameSO's failed instead of completed), or null at its end. */
  next: (status: string, alternative: boolean) => string | null
  /** An order in the upstream's shape; `variant` changes its content and nothing else. */
  order: (reference: string, status: string, clock: Date, itemCount: number, variant?: string) => Record<string, unknown>
  snapshot: (order: Record<string, unknown>) => OrderSnapshot
  rank: (status: string) => number
  isFinal: (status: string) => boolean
  /** The item keys (sku or product id) of an order, in order. */
  itemKeys: (order: Record<string, unknown>) => string[]
  path: string
  /** The webhook bytes of an order, made once per snapshot so duplicates are the same bytes. */
  body: (order: Record<string, unknown>) => Buffer
  sign: (body: Buffer) => Record<string, string>
}

const GAMESO_NEXT: Record<GameSoStatus, GameSoStatus | null> = { pending: 'processing', processing: 'completed', completed: null, failed: null }
const MIDASBUY_NEXT: Record<MidasBuyStatus, MidasBuyStatus | null> = { Created: 'Paid', Paid: 'Finished', Finished: 'Refunded', Refunded: null }

const gameso: ProviderKit = {
  provider: 'gameso',
  statuses: GAMESO_STATUSES,
  first: (later) => later ? 'processing' : 'pending',
  next: (status, alternative) => {
    const next = GAMESO_NEXT[status as GameSoStatus]
    return next === 'completed' && alternative ? 'failed' : next
  },
  order: (reference, status, clock, itemCount, variant) =>
    gamesoOrder(reference, status as GameSoStatus, clock, { itemCount, ...(variant === undefined ? {} : { overrides: { user_id: `user-${variant}` } }) }),
  snapshot: (order) => gamesoOrderToSnapshot(gamesoOrderSchema.parse(order)),
  rank: (status) => gamesoStatusRank(status as GameSoStatus),
  isFinal: (status) => isFinalGameSoStatus(status as GameSoStatus),
  itemKeys: (order) => (order.items as Array<{ sku: string }>).map((item) => item.sku),
  path: '/webhooks/gameso',
  body: (order) => webhookBody(order),
  sign: (body) => gamesoSigned(body)
}

const midasbuy: ProviderKit = {
  provider: 'midasbuy',
  statuses: MIDASBUY_STATUSES,
  first: (later) => later ? 'Paid' : 'Created',
  next: (status) => MIDASBUY_NEXT[status as MidasBuyStatus],
  order: (reference, status, clock, itemCount, variant) => ({
    ...midasbuyOrder({
      paymentOrderId: reference,
      status,
      updateTime: clock.toISOString(),
      items: Array.from({ length: itemCount }, (_unused, index) => ({ productId: `prod-${index + 1}`, quantity: '1', price: { currency: 'USD', amount: '9.99' } }))
    }),
    ...(variant === undefined ? {} : { user_id: `user-${variant}` })
  }),
  snapshot: (order) => midasbuyOrderToSnapshot(midasbuyOrderSchema.parse(order)),
  rank: (status) => midasbuyStatusRank(status as MidasBuyStatus),
  isFinal: (status) => isFinalMidasBuyStatus(status as MidasBuyStatus),
  itemKeys: (order) => (order.order_items as Array<{ product_id: string }>).map((item) => item.product_id),
  path: '/webhooks/midasbuy/payment_notification',
  body: (order) => notificationBody(order),
  sign: (body) => midasbuySigned(body)
}

const KITS = [gameso, midasbuy]

interface StepPlan {
  /** Seconds after the previous snapshot; 0 is a tie, allowed only when the status moves up. */
  advanceSeconds: number
  statusMoves: boolean
  alternative: boolean
  itemCount: number
  /** Extra deliveries of the same webhook bytes. */
  duplicates: number
  /** Delivered as a reconciler poll instead of a webhook. */
  asPoll: boolean
}

interface Snapshot { order: Record<string, unknown>, status: string, clock: Date, duplicates: number, asPoll: boolean }

const stepArbitrary = fc.record({
  advanceSeconds: fc.integer({ min: 0, max: 3 }),
  statusMoves: fc.boolean(),
  alternative: fc.boolean(),
  itemCount: fc.integer({ min: 1, max: 3 }),
  duplicates: fc.integer({ min: 0, max: 2 }),
  asPoll: fc.integer({ min: 0, max: 4 }).map((draw) => draw === 0)
})

/** One order's upstream history: increasing (updated_at, rank), a plausible status path, ties included. */
function buildHistory (kit: ProviderKit, reference: string, startsLater: boolean, steps: StepPlan[]): Snapshot[] {
  const history: Snapshot[] = []
  let status = kit.first(startsLater)
  let clock = Date.parse('2026-07-01T00:00:00.000Z')
  for (const [index, step] of steps.entries()) {
    if (index > 0) {
      const next = kit.next(status, step.alternative)
      // Nothing follows the end of a path (GameSO's final statuses; MidasBuy's Refunded).
      if (next === null) break
      const moves = step.statusMoves
      if (moves) status = next
      // Equal clocks are only a clean tie when the rank rises; equal rank and clock is a conflict.
      clock += (moves ? step.advanceSeconds : Math.max(1, step.advanceSeconds)) * 1000
    }
    const at = new Date(clock)
    history.push({ order: kit.order(reference, status, at, step.itemCount), status, clock: at, duplicates: step.duplicates, asPoll: step.asPoll })
  }
  return history
}

const historyArbitrary = fc.record({
  startsLater: fc.boolean(),
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

describe.each(KITS)('monotonic merge property for $provider (real PostgreSQL, webhooks over HTTP and polls through OrderSync)', (kit) => {
  let database: TestDatabase
  let app: FastifyInstance
  let sync: OrderSync
  let run = 0

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    app = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey }), { db: database.db })
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
      const orders = histories.map((plan, index) => buildHistory(kit, `${prefix}-${index}`, plan.startsLater, plan.steps))

      const deliveries = orders.flatMap((history) => history.flatMap((snapshot) => {
        const body = kit.body(snapshot.order)
        const send = snapshot.asPoll
          ? async () => { await sync.applySnapshot(kit.snapshot(snapshot.order), { source: 'poll' }) }
          : async () => {
            const response = await app.inject({ method: 'POST', url: kit.path, headers: kit.sign(body), payload: body })
            expect(response.statusCode).toBe(200)
          }
        return Array.from({ length: 1 + snapshot.duplicates }, () => send)
      }))
      const shuffled = deliveries.map((send, index) => ({ send, priority: priorities[index] ?? 0 })).sort((a, b) => a.priority - b.priority)
      await Promise.all(shuffled.map(({ send }) => send()))

      for (const history of orders) {
        const newest = history.at(-1)
        if (!newest) throw new Error('a history always has a snapshot')
        const reference = kit.snapshot(newest.order).reference
        const { rows: [stored] } = await database.db.pool.query(
          'SELECT id, provider_status, upstream_updated_at, snapshot_hash FROM orders WHERE provider = $1 AND reference = $2', [kit.provider, reference])
        expect(stored).toMatchObject({ provider_status: newest.status, snapshot_hash: snapshotHash(kit.snapshot(newest.order)) })
        expect(stored.upstream_updated_at.toISOString()).toBe(newest.clock.toISOString())
        const items = await database.db.pool.query<{ key: string }>('SELECT coalesce(sku, product_id) AS key FROM order_items WHERE order_id = $1 ORDER BY position', [stored.id])
        expect(items.rows.map((row) => row.key)).toEqual(kit.itemKeys(newest.order))

        const { rows: changes } = await database.db.pool.query<{ from_provider_status: string | null, to_provider_status: string, upstream_updated_at: Date }>(
          'SELECT from_provider_status, to_provider_status, upstream_updated_at FROM order_status_history WHERE order_id = $1 ORDER BY id', [stored.id])
        expect(changes[0]?.from_provider_status).toBeNull()
        expect(changes.at(-1)?.to_provider_status).toBe(newest.status)
        for (let index = 1; index < changes.length; index++) {
          const before = changes[index - 1]!
          const after = changes[index]!
          expect(after.from_provider_status).toBe(before.to_provider_status)
          expect(kit.rank(after.to_provider_status)).toBeGreaterThan(kit.rank(before.to_provider_status))
          expect(after.upstream_updated_at.getTime()).toBeGreaterThanOrEqual(before.upstream_updated_at.getTime())
        }

        const { rows: inbox } = await database.db.pool.query<{ outcome: string, delivery_count: number }>(
          'SELECT outcome, delivery_count FROM webhook_inbox WHERE provider = $1 AND reference = $2', [kit.provider, reference])
        const webhooks = history.filter((snapshot) => !snapshot.asPoll)
        expect(inbox).toHaveLength(webhooks.length)
        expect(inbox.map((row) => row.delivery_count).sort()).toEqual(webhooks.map((snapshot) => 1 + snapshot.duplicates).sort())
        for (const row of inbox) expect(['applied', 'stale']).toContain(row.outcome)
      }
    }), propertyParameters(kit.provider === 'gameso' ? 40 : 30))
  })
})

describe.each(KITS)('the merge in SQL against decideMerge for $provider, over every pair of states', (kit) => {
  let database: TestDatabase
  let sync: OrderSync

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 10 })
    sync = new OrderSync(database.db, 60_000)
  })
  afterAll(async () => { await database.drop() })

  const CLOCKS = ['2026-07-01T00:00:01.000Z', '2026-07-01T00:00:02.000Z']
  const VARIANTS = ['a', 'b']

  function snapshot (reference: string, status: string, clock: string, variant: string): OrderSnapshot {
    return kit.snapshot(kit.order(reference, status, new Date(clock), 1, variant))
  }

  it('names the same decision and writes exactly when decideMerge says the snapshot wins', async () => {
    type Stored = { status: string, clock: string | null, variant: string }
    const placeholder = kit.first(false)
    const stored: Stored[] = [
      // A local placeholder (recorded by a create or a track, never seen upstream) has no clock.
      { status: placeholder, clock: null, variant: 'a' },
      ...kit.statuses.flatMap((status) => CLOCKS.flatMap((clock) => VARIANTS.map((variant) => ({ status, clock, variant }))))
    ]
    const incoming = kit.statuses.flatMap((status) => CLOCKS.flatMap((clock) => VARIANTS.map((variant) => ({ status, clock, variant }))))
    const cases = stored.flatMap((before) => incoming.flatMap((after) => [false, true].map((authoritative) => ({ before, after, authoritative }))))
    const prefix = `pair-${kit.provider}`

    const mismatches: string[] = []
    for (let start = 0; start < cases.length; start += 32) {
      await Promise.all(cases.slice(start, start + 32).map(async ({ before, after, authoritative }, offset) => {
        const reference = `${prefix}-${start + offset}`
        let storedHash: string | null = null
        if (before.clock === null) {
          const local = snapshot(reference, placeholder, CLOCKS[0] as string, 'a')
          await database.db.pool.query(
            "INSERT INTO orders (provider, reference, status, provider_status, status_rank, is_final, last_source) VALUES ($1, $2, $3, $4, $5, false, 'create')",
            [kit.provider, reference, local.status, local.providerStatus, local.statusRank])
        } else {
          const first = snapshot(reference, before.status, before.clock, before.variant)
          storedHash = snapshotHash(first)
          await sync.applySnapshot(first, { source: 'webhook' })
        }
        const next = snapshot(reference, after.status, after.clock, after.variant)
        const nextHash = snapshotHash(next)
        const expected = decideMerge(
          { updatedAtMs: before.clock === null ? null : Date.parse(before.clock), rank: kit.rank(before.status), isFinal: kit.isFinal(before.status), hash: storedHash },
          { updatedAtMs: Date.parse(after.clock), rank: kit.rank(after.status), isFinal: kit.isFinal(after.status), hash: nextHash },
          { authoritative })

        const result = await sync.applySnapshot(next, { source: 'poll', authoritative })
        const { rows: [row] } = await database.db.pool.query('SELECT snapshot_hash, refetch_requested FROM orders WHERE provider = $1 AND reference = $2', [kit.provider, reference])
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

describe('MidasBuy ranks in the merge', () => {
  const at = (iso: string) => Date.parse(iso)
  const state = (status: MidasBuyStatus, iso: string) => ({ updatedAtMs: at(iso), rank: midasbuyStatusRank(status), isFinal: isFinalMidasBuyStatus(status), hash: status })

  it('Refunded over Finished applies, on a later clock and on an equal one; Paid after Finished is stale', () => {
    expect(decideMerge(state('Finished', '2026-07-01T00:00:01Z'), state('Refunded', '2026-07-01T00:00:02Z'))).toBe('apply')
    expect(decideMerge(state('Finished', '2026-07-01T00:00:01Z'), state('Refunded', '2026-07-01T00:00:01Z'))).toBe('apply')
    expect(decideMerge(state('Refunded', '2026-07-01T00:00:01Z'), state('Finished', '2026-07-01T00:00:01Z'))).toBe('stale')
    expect(decideMerge(state('Finished', '2026-07-01T00:00:01Z'), state('Paid', '2026-07-01T00:00:05Z'))).toBe('stale')
  })
})
