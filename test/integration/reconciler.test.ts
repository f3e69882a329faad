import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics } from '../../src/metrics/metrics.js'
import { gamesoConnection } from '../../src/providers/gameso/gameso-api.js'
import { GameSoClient } from '../../src/providers/gameso/gameso-client.js'
import { gamesoOrderToSnapshot } from '../../src/providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, type GameSoOrder } from '../../src/providers/gameso/gameso-schemas.js'
import { Reconciler, type ReconcilerOptions } from '../../src/reconciler/reconciler.js'
import { claimDueOrders, finishPoll } from '../../src/repositories/reconcile-repository.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const API_KEY = 'sim-key'
const STALE_AFTER_MS = 1000
const MAX_BACKOFF_MS = 8000
const silent = pino({ level: 'silent' })

describe('Reconciler against PostgreSQL and the GameSO simulator', () => {
  let database: TestDatabase
  let simulator: RunningSimulator
  let sync: OrderSync
  let metrics: ReturnType<typeof createMetrics>
  const clients: GameSoClient[] = []
  const reconcilers: Reconciler[] = []

  function gamesoClient (overrides: Partial<ConstructorParameters<typeof GameSoClient>[0]> = {}) {
    const client = new GameSoClient({
      baseUrl: simulator.url, apiKey: API_KEY, maxRequestsPerSecond: 1000, maxConcurrency: 8, timeoutMs: 2000, log: silent, metrics, ...overrides
    })
    clients.push(client)
    return client
  }

  function reconciler (options: Partial<ReconcilerOptions & { leaseMs: number, upstreamTimeoutMs: number }> = {}, client = gamesoClient()) {
    const { leaseMs = 30_000, upstreamTimeoutMs = 2000, ...rest } = options
    const created = new Reconciler({
      instanceId: 'test-instance',
      intervalMs: 100,
      staleAfterMs: STALE_AFTER_MS,
      maxBackoffMs: MAX_BACKOFF_MS,
      giveUpAfterMs: 3_600_000,
      batchSize: 50,
      notFoundLimit: 3,
      ...rest
    }, {
      db: database.db,
      upstreams: [{ connection: gamesoConnection(client, { maxRequestsPerSecond: 1000, timeoutMs: upstreamTimeoutMs }), leaseMs }],
      sync,
      metrics,
      log: silent,
      random: () => 1
    })
    reconcilers.push(created)
    return created
  }

  async function row (reference: string) {
    const result = await database.db.pool.query(`
      SELECT *, extract(epoch FROM next_poll_at - last_polled_at) * 1000 AS delay_ms
        FROM orders WHERE provider = 'gameso' AND reference = $1`, [reference])
    return result.rows[0]
  }

  async function history (reference: string) {
    const result = await database.db.pool.query(`
      SELECT h.from_status, h.to_status, h.source FROM order_status_history h JOIN orders o ON o.id = h.order_id
       WHERE o.reference = $1 ORDER BY h.id`, [reference])
    return result.rows.map((entry) => [entry.from_status, entry.to_status, entry.source])
  }

  /** GameSO knows the order in `upstream` state; the mirror holds an older `local` one, due for a poll. */
  async function staleOrder (reference: string, upstream: 'completed' | 'failed' | 'processing', local: GameSoOrder['status'] = 'pending'): Promise<GameSoOrder> {
    const [seeded] = simulator.control.seedOrders([{
      reference_id: reference, status: upstream, progress: false, updated_at: '2026-01-01T00:10:00.000Z', created_at: '2026-01-01T00:00:00.000Z'
    }])
    const truth = gamesoOrderSchema.parse(seeded)
    const older = { ...truth, status: local, updated_at: '2026-01-01T00:01:00.000Z', completed_at: undefined, failure_code: null, failure_message: null }
    await sync.applySnapshot(gamesoOrderToSnapshot(gamesoOrderSchema.parse(older)), { source: 'webhook' })
    await makeDue(reference)
    return truth
  }

  async function makeDue (reference: string) {
    await database.db.pool.query("UPDATE orders SET next_poll_at = now() - interval '1 second' WHERE reference = $1", [reference])
  }

  async function polls () {
    const counted = await metrics.pollsTotal.get()
    return Object.fromEntries(counted.values.map((value) => [value.labels.result, value.value]))
  }

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    simulator = await startSimulator({ apiKey: API_KEY, autoProgress: false })
    sync = new OrderSync(database.db, STALE_AFTER_MS)
  })

  beforeEach(() => { metrics = createMetrics() })

  afterEach(async () => {
    await Promise.all(reconcilers.splice(0).map((created) => created.stop()))
    await Promise.all(clients.splice(0).map((client) => client.close()))
    simulator.control.clearFaults()
    simulator.control.resetStats()
    await database.db.pool.query('TRUNCATE orders, order_items, order_status_history, webhook_inbox')
  })

  afterAll(async () => {
    await simulator.close()
    await database.drop()
  })

  it('heals a missed webhook: the upstream answer is stored through the merge, with a poll history row', async () => {
    const truth = await staleOrder('heal-1', 'completed')
    const result = await reconciler().tick()
    expect(result).toEqual({ claimed: 1, results: { applied: 1 } })
    const stored = await row('heal-1')
    expect(stored).toMatchObject({
      status: 'completed',
      is_final: true,
      reconcile_state: 'final',
      next_poll_at: null,
      lease_owner: null,
      last_source: 'poll',
      poll_attempts: 0,
      refetch_requested: false,
      total_amount: truth.total_amount
    })
    expect(stored.upstream_updated_at.toISOString()).toBe(truth.updated_at)
    expect(await history('heal-1')).toEqual([[null, 'pending', 'webhook'], ['pending', 'completed', 'poll']])
    expect(await polls()).toEqual({ applied: 1 })
  })

  it('leaves orders alone until they are due, and never claims what another provider owns', async () => {
    await staleOrder('not-due', 'completed')
    await database.db.pool.query("UPDATE orders SET next_poll_at = now() + interval '1 hour' WHERE reference = 'not-due'")
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at)
      VALUES ('midasbuy', 'mb-1', 'pending', 'Created', 1, 'webhook', now() - interval '1 minute')`)
    expect(await reconciler().tick()).toEqual({ claimed: 0, results: {} })
    expect(simulator.control.stats().api.total).toBe(0)
  })

  it('backs off exponentially while the order does not change, capped at the maximum', async () => {
    await staleOrder('slow-1', 'processing', 'processing')
    await database.db.pool.query("UPDATE orders SET upstream_updated_at = '2026-01-01T00:10:00.000Z' WHERE reference = 'slow-1'")
    // Same clock and rank but not the same bytes: the first poll settles that tie.
    const first = await reconciler().tick()
    expect(first.results).toEqual({ applied: 1 })
    const delays: number[] = []
    for (let poll = 0; poll < 5; poll++) {
      await makeDue('slow-1')
      expect((await reconciler().tick()).results).toEqual({ unchanged: 1 })
      const stored = await row('slow-1')
      expect(stored).toMatchObject({ poll_attempts: poll + 1, reconcile_state: 'active', last_poll_error: null })
      delays.push(Math.round(Number(stored.delay_ms) / 100) * 100)
    }
    // random() = 1 takes the top of each jittered step: 1 s, 2 s, 4 s, then the 8 s cap.
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000])
  })

  it('marks an order GameSO keeps not finding not_found_upstream after the limit', async () => {
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at)
      VALUES ('gameso', 'ghost-1', 'pending', 'pending', 1, 'create', now())`)
    const seen: Array<Partial<Record<string, number>>> = []
    for (let poll = 0; poll < 3; poll++) {
      await makeDue('ghost-1')
      seen.push((await reconciler().tick()).results)
    }
    expect(seen).toEqual([{ not_found: 1 }, { not_found: 1 }, { not_found: 1 }])
    expect(await row('ghost-1')).toMatchObject({ reconcile_state: 'not_found_upstream', not_found_count: 3, next_poll_at: null, lease_owner: null })
    expect(await reconciler().tick()).toEqual({ claimed: 0, results: {} })
  })

  it('abandons an order still not final after the give-up time, and keeps it readable', async () => {
    await staleOrder('old-1', 'processing')
    expect((await reconciler().tick()).results).toEqual({ applied: 1 })
    await database.db.pool.query("UPDATE orders SET tracking_since = now() - interval '2 hours' WHERE reference = 'old-1'")
    await makeDue('old-1')
    expect((await reconciler().tick()).results).toEqual({ abandoned: 1 })
    expect(await row('old-1')).toMatchObject({ reconcile_state: 'abandoned', next_poll_at: null, status: 'processing' })
    expect(await polls()).toEqual({ applied: 1, abandoned: 1 })
  })

  it('settles a webhook tie with the upstream\'s answer, even on a final order', async () => {
    const truth = await staleOrder('tie-1', 'failed')
    await reconciler().tick()
    const conflicting = gamesoOrderSchema.parse({ ...truth, failure_code: 'SOMETHING_ELSE' })
    expect((await sync.applySnapshot(gamesoOrderToSnapshot(conflicting), { source: 'webhook' })).decision).toBe('conflict')
    expect(await row('tie-1')).toMatchObject({ refetch_requested: true, reconcile_state: 'active' })

    expect((await reconciler().tick()).results).toEqual({ unchanged: 1 })
    expect(await row('tie-1')).toMatchObject({ refetch_requested: false, reconcile_state: 'final', next_poll_at: null, failure_code: truth.failure_code })
  })

  it('keeps a re-fetch asked for while a poll was under way, and polls again at once', async () => {
    const truth = await staleOrder('race-1', 'completed')
    await reconciler().tick()
    // A webhook that ties the stored snapshot and disagrees with it asks for a re-fetch.
    const tie = (failureCode: string) => sync.applySnapshot(gamesoOrderToSnapshot(gamesoOrderSchema.parse({ ...truth, failure_code: failureCode })), { source: 'webhook' })
    expect((await tie('FIRST_TIE')).decision).toBe('conflict')
    simulator.control.setFaults({ slowMs: 300 })
    const tick = reconciler().tick()
    while (simulator.control.stats().api.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    // A second tie arrives while GameSO is being asked about the first. The order stays leased:
    // made due now, another instance could claim it and poll it a second time at once.
    expect((await tie('SECOND_TIE')).decision).toBe('conflict')
    const midPoll = await row('race-1')
    expect(midPoll).toMatchObject({ refetch_requested: true, lease_owner: expect.any(String) })
    expect(midPoll.next_poll_at.getTime()).toBeGreaterThan(Date.now())
    expect((await tick).results).toEqual({ unchanged: 1 })
    const stored = await row('race-1')
    expect(stored).toMatchObject({ status: 'completed', refetch_requested: true, reconcile_state: 'active' })
    expect(stored.next_poll_at.getTime()).toBeLessThanOrEqual(Date.now())
  })

  it('counts an upstream error against the order and backs off; GameSO is then paused', async () => {
    await staleOrder('err-1', 'completed')
    simulator.control.setFaults({ errorRate: 1 })
    const client = gamesoClient()
    expect((await reconciler({}, client).tick()).results).toEqual({ error: 1 })
    const stored = await row('err-1')
    expect(stored).toMatchObject({ poll_attempts: 1, reconcile_state: 'active', status: 'pending', lease_owner: null })
    expect(stored.last_poll_error).toMatch(/GameSO answered 50\d/)
    expect(Math.round(Number(stored.delay_ms) / 100) * 100).toBe(STALE_AFTER_MS)
    expect(client.pausedForMs()).toBeGreaterThan(0)
  })

  it('reschedules a 429 after Retry-After without counting it against the order', async () => {
    await staleOrder('limited-1', 'completed')
    simulator.control.setFaults({ rateLimitedRate: 1, retryAfterSeconds: 7 })
    const client = gamesoClient()
    expect((await reconciler({}, client).tick()).results).toEqual({ rate_limited: 1 })
    const stored = await row('limited-1')
    expect(stored).toMatchObject({ poll_attempts: 0, reconcile_state: 'active', lease_owner: null })
    expect(Math.round(Number(stored.delay_ms) / 100) * 100).toBe(7000)
    expect(client.state()).toMatchObject({ pauseReason: 'rate_limited' })
    // While GameSO asked for quiet, a claimed poll is released without being sent.
    await makeDue('limited-1')
    expect((await reconciler({ leaseMs: 4000, upstreamTimeoutMs: 1000 }, client).tick()).results).toEqual({ released: 1 })
    expect(simulator.control.stats().api.total).toBe(1)
    expect(await row('limited-1')).toMatchObject({ poll_attempts: 0, lease_owner: null })
  })

  it('lets two instances claim disjoint orders, so none is polled twice', async () => {
    const references = Array.from({ length: 120 }, (_unused, index) => `pair-${index}`)
    simulator.control.seedOrders(references.map((reference) => ({ reference_id: reference, status: 'completed' as const })))
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at)
      SELECT 'gameso', reference, 'pending', 'pending', 1, 'create', now() - interval '1 second' FROM unnest($1::text[]) AS reference`, [references])
    simulator.control.setFaults({ slowMs: 20 })
    const one = reconciler({ instanceId: 'one', batchSize: 40 })
    const two = reconciler({ instanceId: 'two', batchSize: 40 })
    const results = await Promise.all([one.tick(), two.tick(), one.tick(), two.tick(), one.tick(), two.tick()])
    expect(results.reduce((sum, result) => sum + result.claimed, 0)).toBe(120)
    const stats = simulator.control.stats().api
    expect(stats.maxConcurrentGetsPerReference).toBe(1)
    expect(Object.values(stats.getsByReference).every((count) => count === 1)).toBe(true)
    const { rows } = await database.db.pool.query("SELECT count(*)::int AS final FROM orders WHERE reconcile_state = 'final'")
    expect(rows[0].final).toBe(120)
  })

  it('fences a poll whose lease was taken over by another instance', async () => {
    await staleOrder('lease-1', 'completed')
    const [claimed] = await claimDueOrders(database.db.pool, { provider: 'gameso', limit: 1, leaseMs: 60_000, owner: 'first' })
    expect(claimed?.reference).toBe('lease-1')
    await makeDue('lease-1')
    await claimDueOrders(database.db.pool, { provider: 'gameso', limit: 1, leaseMs: 60_000, owner: 'second' })
    const outcome = { found: false, notFound: true, attemptIncrement: 1 as const, delayMs: 1000, error: 'late', refetchStillNeeded: false }
    expect(await finishPoll(database.db.pool, claimed!.id, 'first', outcome, { notFoundLimit: 1, giveUpAfterMs: 3_600_000 })).toBeNull()
    expect(await row('lease-1')).toMatchObject({ lease_owner: 'second', not_found_count: 0, reconcile_state: 'active' })
  })

  it('runs on its own once started, and on stop releases what it had not sent', async () => {
    await staleOrder('loop-1', 'completed')
    const running = reconciler()
    running.start()
    while ((await row('loop-1')).reconcile_state !== 'final') await new Promise((resolve) => setTimeout(resolve, 20))
    expect(running.running).toBe(true)

    simulator.control.setFaults({ slowMs: 5000 })
    await staleOrder('loop-2', 'completed')
    while (simulator.control.stats().api.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    await running.stop()
    expect(running.running).toBe(false)
    const stored = await row('loop-2')
    expect(stored).toMatchObject({ status: 'pending', reconcile_state: 'active', lease_owner: null, poll_attempts: 0 })
    expect(stored.next_poll_at.getTime()).toBeLessThanOrEqual(Date.now())
  })
})
