import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMirrorStack, type MirrorStack } from '../helpers/mirror-stack.js'

describe('a create GameSO does not answer in time is resolved by the reconciler', () => {
  let stack: MirrorStack

  beforeAll(async () => {
    stack = await startMirrorStack({
      simulator: {
        SIMULATOR_SEED: '7',
        SIMULATOR_PROCESSING_DELAY_MS: '200',
        SIMULATOR_COMPLETION_DELAY_MS: '200',
        // Every webhook is lost: only the reconciler can bring these orders home.
        SIMULATOR_DROP_RATE: '1'
      },
      service: {
        GAMESO_TIMEOUT_MS: '400',
        RECONCILE_INTERVAL_MS: '200',
        RECONCILE_STALE_AFTER_MS: '1000',
        RECONCILE_MAX_BACKOFF_MS: '1000',
        RECONCILE_NOT_FOUND_LIMIT: '4'
      }
    })
  })

  afterAll(async () => { await stack?.stop() })

  function createThroughMirror (reference: string) {
    return stack.merchant('POST', '/v1/orders', { reference_id: reference, user_id: 'player-1', items: [{ sku: 'DIAMOND_500', quantity: 2 }] })
  }

  async function stored (reference: string) {
    const result = await stack.database.db.pool.query<{ status: string, reconcile_state: string, not_found_count: number, sources: string[] }>(`
      SELECT o.status, o.reconcile_state, o.not_found_count,
        ARRAY(SELECT h.source FROM order_status_history h WHERE h.order_id = o.id ORDER BY h.id) AS sources
        FROM orders o WHERE provider = 'gameso' AND reference = $1`, [reference])
    return result.rows[0]
  }

  async function waitFor<T> (read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    let value = await read()
    while (!done(value) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      value = await read()
    }
    return value
  }

  it('GameSO creates the order after the mirror gave up: 504, then the order is synced to its final state', async () => {
    await stack.simulator.control('POST', '/_control/faults', { slowMs: 1000, slowRate: 1 })
    const created = await createThroughMirror('late-create')
    await stack.simulator.control('POST', '/_control/faults', { slowMs: 0 })
    expect(created).toEqual({ status: 504, json: { status: 504, code: 'UPSTREAM_TIMEOUT', message: 'GameSO did not answer in time' } })
    expect(await stored('late-create')).toMatchObject({ status: 'pending', reconcile_state: 'active', sources: ['create'] })
    // GameSO did record the order after all. The simulator's slow gate holds a request before its
    // body is read, so a create the client gave up on never reaches the order book there; the
    // control API puts the order in, pending and progressing, as GameSO would have.
    await stack.simulator.control('POST', '/_control/orders', {
      reference_id: 'late-create', user_id: 'player-1', status: 'pending', items: [{ sku: 'DIAMOND_500', quantity: 2 }]
    })

    const truth = await waitFor(
      () => stack.simulator.control<{ status: string }>('GET', '/_control/orders/late-create'),
      (order) => order.status === 'completed' || order.status === 'failed')
    const order = await waitFor(() => stored('late-create'), (row) => row?.reconcile_state === 'final')
    expect(order).toMatchObject({ status: truth.status, reconcile_state: 'final', not_found_count: 0 })
    // Recorded by the create, brought home by polls alone.
    expect(order?.sources[0]).toBe('create')
    expect(order?.sources.at(-1)).toBe('poll')
    expect(new Set(order?.sources.slice(1))).toEqual(new Set(['poll']))
    expect((await stack.merchant('GET', '/v1/orders/late-create')).json).toEqual(truth)
  }, 60_000)

  it('GameSO never created it: 504, then repeated 404s mark the order not_found_upstream', async () => {
    // Held past the timeout, then refused by an outage: GameSO has no such order.
    await stack.simulator.control('POST', '/_control/faults', { slowMs: 1000, slowRate: 1, downForMs: 3000 })
    const created = await createThroughMirror('lost-create')
    await stack.simulator.control('POST', '/_control/faults', { slowMs: 0 })
    expect(created.status).toBe(504)
    expect(await stored('lost-create')).toMatchObject({ status: 'pending', reconcile_state: 'active' })

    const order = await waitFor(() => stored('lost-create'), (row) => row?.reconcile_state !== 'active')
    expect(order).toMatchObject({ status: 'pending', reconcile_state: 'not_found_upstream', not_found_count: 4, sources: ['create'] })
    const asked = await stack.simulator.control('GET', '/_control/orders/lost-create').catch((error: Error) => error.message)
    expect(asked).toMatch(/answered 404/)
  }, 60_000)
})
