import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildSimulator, type Simulator } from '../../src/simulator/simulator.js'
import type { SimulatorDependencies } from '../../src/simulator/simulator.js'
import type { SimulatorOptionsInput } from '../../src/simulator/options.js'

const KEY = 'test-key'
const auth = { 'x-api-key': KEY }
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const DECIMAL = /^\d+\.\d{2}$/
const ORDER_NUMBER = /^ord_[A-Za-z0-9]{16}$/

const running: Simulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.app.close()))
})

async function simulator (options: SimulatorOptionsInput = {}, deps: SimulatorDependencies = {}): Promise<Simulator> {
  const built = await buildSimulator({ apiKey: KEY, seed: 1, autoProgress: false, itemFailureRate: 0, ...options }, deps)
  running.push(built)
  return built
}

async function waitFor (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function create ({ app }: Simulator, payload: unknown, headers: Record<string, string> = auth) {
  return app.inject({ method: 'POST', url: '/v1/orders', headers, payload: payload as Record<string, unknown> })
}

function get ({ app }: Simulator, reference: string, headers: Record<string, string> = auth) {
  return app.inject({ method: 'GET', url: `/v1/orders/${encodeURIComponent(reference)}`, headers })
}

const order = (reference: string, items: unknown = [{ sku: 'DIAMOND_500' }]) => ({ reference_id: reference, user_id: 'u-1', items })

describe('simulator: authentication', () => {
  it.each([
    ['no key', {}],
    ['a wrong key', { 'x-api-key': 'nope' }],
    ['a key of another length', { 'x-api-key': `${KEY}x` }]
  ])('%s is 401 UNAUTHORIZED exactly as GameSO answers', async (_, headers) => {
    const sim = await simulator()
    for (const response of [await get(sim, 'any', headers), await create(sim, order('r'), headers)]) {
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({ status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' })
    }
    expect(sim.control.order('r')).toBeUndefined()
  })
})

describe('simulator: create order', () => {
  it('answers 200 with a pending GameSO order', async () => {
    const sim = await simulator()
    const response = await create(sim, { ...order('ref-1', [{ sku: 'DIAMOND_1000', quantity: 2 }, { sku: 'UC_325' }]), server_id: 's1', character_id: 'c1' })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toMatchObject({
      reference_id: 'ref-1',
      user_id: 'u-1',
      server_id: 's1',
      character_id: 'c1',
      status: 'pending',
      failure_code: null,
      failure_message: null,
      subtotal_amount: '2175.50',
      discount_amount: '100.00',
      total_amount: '2075.50',
      source_type: 'api',
      created_by: { id: 0, name: 'API' }
    })
    for (const holder of [body, ...body.items]) {
      for (const field of ['subtotal_amount', 'discount_amount', 'total_amount']) expect(holder[field]).toMatch(DECIMAL)
    }
    expect(body.order_number).toMatch(ORDER_NUMBER)
    expect(body.created_at).toMatch(ISO_MS)
    expect(body.updated_at).toBe(body.created_at)
    expect(body).not.toHaveProperty('completed_at')
    expect(body.items).toEqual([
      { sku: 'DIAMOND_1000', quantity: 2, completed_quantity: 0, failed_quantity: 0, status: 'pending', subtotal_amount: '2000.00', discount_amount: '100.00', total_amount: '1900.00', failure_code: null, failure_message: null },
      { sku: 'UC_325', quantity: 1, completed_quantity: 0, failed_quantity: 0, status: 'pending', subtotal_amount: '175.50', discount_amount: '0.00', total_amount: '175.50', failure_code: null, failure_message: null }
    ])
    expect((await get(sim, 'ref-1')).json()).toEqual(body)
  })

  it('leaves absent optional ids null', async () => {
    const sim = await simulator()
    expect((await create(sim, order('ref-2'))).json()).toMatchObject({ server_id: null, character_id: null })
  })

  it.each([
    [{ user_id: 'u', items: [{ sku: 'UC_60' }] }, 'reference_id is required'],
    [{ reference_id: '', user_id: 'u', items: [{ sku: 'UC_60' }] }, 'reference_id must not be empty'],
    [{ reference_id: 7, user_id: 'u', items: [{ sku: 'UC_60' }] }, 'reference_id must be a string'],
    [{ reference_id: 'r', items: [{ sku: 'UC_60' }] }, 'user_id is required'],
    [{ reference_id: 'r', user_id: 'u' }, 'items is required'],
    [{ reference_id: 'r', user_id: 'u', items: [] }, 'items must contain at least 1 item'],
    [{ reference_id: 'r', user_id: 'u', items: 'UC_60' }, 'items must be an array'],
    [{ reference_id: 'r', user_id: 'u', items: [{ quantity: 1 }] }, 'items[0].sku is required'],
    [{ reference_id: 'r', user_id: 'u', items: [{ sku: 'UC_60', quantity: 0 }] }, 'items[0].quantity must be at least 1'],
    [{ reference_id: 'r', user_id: 'u', items: [{ sku: 'UC_60' }, { sku: 'UC_60', quantity: 1.5 }] }, 'items[1].quantity must be an integer'],
    [{ reference_id: 'r', user_id: 'u', items: [{ sku: 'UC_60', quantity: '2' }] }, 'items[0].quantity must be an integer'],
    [{ reference_id: 'r', user_id: 'u', items: [{ sku: 'UC_60' }], server_id: 5 }, 'server_id must be a string']
  ])('%j is 400 VALIDATION_ERROR "%s"', async (payload, message) => {
    const sim = await simulator()
    const response = await create(sim, payload)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message })
  })

  it('names every bad field at once', async () => {
    const sim = await simulator()
    const response = await create(sim, { items: [{ quantity: -1 }] })
    expect(response.json().message).toBe('reference_id is required; user_id is required; items[0].sku is required; items[0].quantity must be at least 1')
  })

  it.each([
    ['not JSON', { 'content-type': 'application/json' }, '{"reference_id":'],
    ['no body', {}, undefined],
    ['an empty JSON body', { 'content-type': 'application/json' }, ''],
    ['a JSON array', { 'content-type': 'application/json' }, '[]'],
    ['a JSON string', { 'content-type': 'application/json' }, '"order"'],
    ['another content type', { 'content-type': 'application/xml' }, '<order/>']
  ])('%s is 400 BAD_REQUEST', async (_, headers, payload) => {
    const sim = await simulator()
    const response = await sim.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...auth, ...headers }, ...(payload === undefined ? {} : { payload }) })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'BAD_REQUEST', message: expect.any(String) })
  })

  it('an unknown SKU is 400 INVALID_SKU and creates nothing', async () => {
    const sim = await simulator()
    const response = await create(sim, order('r', [{ sku: 'UC_60' }, { sku: 'NOPE' }]))
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'INVALID_SKU', message: expect.stringContaining('NOPE') })
    expect(sim.control.order('r')).toBeUndefined()
  })

  it('a reused reference_id is 409 DUPLICATE_REFERENCE and leaves the first order alone', async () => {
    const sim = await simulator()
    const first = (await create(sim, order('dup'))).json()
    const again = await create(sim, order('dup', [{ sku: 'UC_60', quantity: 3 }]))
    expect(again.statusCode).toBe(409)
    expect(again.json()).toEqual({ status: 409, code: 'DUPLICATE_REFERENCE', message: expect.stringContaining('dup') })
    expect((await get(sim, 'dup')).json()).toEqual(first)
  })

  it('extra SKUs from the options join the catalog', async () => {
    const sim = await simulator({ extraSkus: [{ sku: 'GEMS_10', price: '10.00' }] })
    expect((await create(sim, order('x', [{ sku: 'GEMS_10', quantity: 3 }]))).json().total_amount).toBe('30.00')
  })
})

describe('simulator: get order', () => {
  it('an unknown reference is 404 NOT_FOUND exactly as GameSO answers', async () => {
    const sim = await simulator()
    const response = await get(sim, 'missing')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Order not found' })
  })

  it('finds references longer than Fastify\'s default parameter limit', async () => {
    const sim = await simulator()
    const reference = `long-${'x'.repeat(250)}`
    await create(sim, order(reference))
    expect((await get(sim, reference)).statusCode).toBe(200)
  })

  it('unknown routes answer the GameSO error shape', async () => {
    const sim = await simulator()
    const response = await sim.app.inject({ method: 'GET', url: '/v2/nothing' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Route GET /v2/nothing not found' })
  })
})

describe('simulator: progression', () => {
  it('moves orders pending → processing → final on the timer, each step a later updated_at', async () => {
    const sim = await simulator({ autoProgress: true, processingDelayMs: 5, completionDelayMs: 5 })
    await create(sim, order('timed', [{ sku: 'DIAMOND_100', quantity: 2 }]))
    const seen = new Map<string, string>()
    await waitFor(() => {
      const current = sim.control.order('timed')!
      if (!seen.has(current.status)) seen.set(current.status, current.updated_at)
      return current.status === 'completed'
    }, 'the order to complete')
    const final = (await get(sim, 'timed')).json()
    expect(final).toMatchObject({ status: 'completed', completed_at: final.updated_at })
    expect(final.items[0]).toMatchObject({ status: 'completed', completed_quantity: 2, failed_quantity: 0 })
    const stamps = [...seen.values()]
    expect(stamps).toEqual([...stamps].sort())
    expect(new Set(stamps).size).toBe(stamps.length)
  })

  it('advance forces each step; items follow the order until the outcome', async () => {
    const sim = await simulator()
    await create(sim, order('step'))
    const processing = sim.control.advance('step')
    expect(processing.status).toBe('processing')
    expect(processing.items[0]!.status).toBe('processing')
    expect(processing).not.toHaveProperty('completed_at')
    const response = await sim.app.inject({ method: 'POST', url: '/_control/orders/step/advance' })
    expect(response.json()).toMatchObject({ status: 'completed', items: [{ status: 'completed', completed_quantity: 1 }] })
    const again = await sim.app.inject({ method: 'POST', url: '/_control/orders/step/advance' })
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ code: 'ORDER_FINAL' })
    expect((await sim.app.inject({ method: 'POST', url: '/_control/orders/none/advance' })).statusCode).toBe(404)
  })

  it('two steps in the same millisecond still get increasing updated_at', async () => {
    const frozen = Date.parse('2026-02-23T08:08:15.000Z')
    const sim = await simulator({}, { now: () => frozen })
    await create(sim, order('same-ms'))
    const stamps = [sim.control.order('same-ms')!.updated_at, sim.control.advance('same-ms').updated_at, sim.control.advance('same-ms').updated_at]
    expect(stamps).toEqual(['2026-02-23T08:08:15.000Z', '2026-02-23T08:08:15.001Z', '2026-02-23T08:08:15.002Z'])
  })

  it('fails items partially: completed + failed = quantity, the order copies the first failure', async () => {
    const sim = await simulator({ extraSkus: [{ sku: 'FLAKY', price: '10.00', failureRate: 1 }] })
    const outcomes: Array<[number, number]> = []
    for (let i = 0; i < 10; i++) {
      await create(sim, order(`p-${i}`, [{ sku: 'DIAMOND_100' }, { sku: 'FLAKY', quantity: 5 }]))
      sim.control.advance(`p-${i}`)
      const final = sim.control.advance(`p-${i}`)
      expect(final).toMatchObject({ status: 'failed', failure_code: 'ITEM_NOT_FOUND', failure_message: 'Product SKU not found in provider system' })
      expect(final).not.toHaveProperty('completed_at')
      const [good, flaky] = final.items
      expect(good).toMatchObject({ status: 'completed', completed_quantity: 1, failed_quantity: 0, failure_code: null })
      expect(flaky).toMatchObject({ status: 'failed', failure_code: 'ITEM_NOT_FOUND' })
      expect(flaky!.completed_quantity + flaky!.failed_quantity).toBe(5)
      outcomes.push([flaky!.completed_quantity, flaky!.failed_quantity])
    }
    expect(outcomes.some(([completed, failed]) => completed > 0 && failed > 0)).toBe(true)
  })

  it('an unavailable SKU fails every unit', async () => {
    const sim = await simulator()
    await create(sim, order('legacy', [{ sku: 'LEGACY_PACK', quantity: 3 }]))
    sim.control.advance('legacy')
    expect(sim.control.advance('legacy').items[0]).toMatchObject({ status: 'failed', completed_quantity: 0, failed_quantity: 3 })
  })

  it('the same seed gives the same order numbers and outcomes', async () => {
    const run = async () => {
      const sim = await simulator({ seed: 1234, itemFailureRate: 0.5 })
      const results = []
      for (let i = 0; i < 5; i++) {
        await create(sim, order(`s-${i}`, [{ sku: 'UC_60', quantity: 4 }]))
        sim.control.advance(`s-${i}`)
        const { order_number: number, status, items } = sim.control.advance(`s-${i}`)
        results.push({ number, status, failed: items[0]!.failed_quantity })
      }
      return results
    }
    const first = await run()
    expect(await run()).toEqual(first)
    expect(new Set(first.map((result) => result.number)).size).toBe(5)
  })

  it('closing clears the timers: nothing moves afterwards', async () => {
    const sim = await simulator({ autoProgress: true, processingDelayMs: 20, completionDelayMs: 20 })
    await create(sim, order('frozen'))
    await sim.app.close()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sim.control.order('frozen')!.status).toBe('pending')
  })

  it('switching autoProgress on resumes waiting orders', async () => {
    const sim = await simulator({ processingDelayMs: 1, completionDelayMs: 1 })
    await create(sim, order('resume'))
    const response = await sim.app.inject({ method: 'POST', url: '/_control/settings', payload: { autoProgress: true } })
    expect(response.json()).toMatchObject({ autoProgress: true, webhookSecretSet: false })
    await waitFor(() => sim.control.order('resume')!.status === 'completed', 'the resumed order to complete')
  })

  it('switching autoProgress off stops orders that were already on the timer', async () => {
    const sim = await simulator({ autoProgress: true, processingDelayMs: 30, completionDelayMs: 30 })
    await create(sim, order('halt'))
    sim.control.updateSettings({ autoProgress: false })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sim.control.order('halt')!.status).toBe('pending')
  })

  it('a settings update changes only the settings it names and never shows the secret', async () => {
    const sim = await simulator({ processingDelayMs: 7, webhookSecret: 'hush' })
    const response = await sim.app.inject({ method: 'POST', url: '/_control/settings', payload: { webhookUrls: ['http://127.0.0.1:9/hook'] } })
    expect(response.json()).toMatchObject({ processingDelayMs: 7, webhookUrls: ['http://127.0.0.1:9/hook'], webhookSecretSet: true })
    expect(response.body).not.toContain('hush')
    const refused = await sim.app.inject({ method: 'POST', url: '/_control/settings', payload: { maxRetries: -1 } })
    expect(refused.json()).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', message: expect.stringContaining('maxRetries') })
  })
})

describe('simulator: seeding and reading orders through /_control', () => {
  it('seeds a final order with given counts and timestamps, as GET shows it', async () => {
    const sim = await simulator()
    const response = await sim.app.inject({
      method: 'POST',
      url: '/_control/orders',
      payload: {
        reference_id: 'stale-1',
        status: 'failed',
        items: [{ sku: 'ROMC-Z-1800K', quantity: 5, completed_quantity: 3 }],
        created_at: '2026-02-23T08:00:00.000Z',
        updated_at: '2026-02-23T08:08:15.000Z'
      }
    })
    expect(response.statusCode).toBe(200)
    const seeded = response.json()
    expect(seeded).toMatchObject({
      reference_id: 'stale-1',
      user_id: 'sim-user',
      status: 'failed',
      failure_code: 'ITEM_NOT_FOUND',
      total_amount: '9000.00',
      created_at: '2026-02-23T08:00:00.000Z',
      updated_at: '2026-02-23T08:08:15.000Z',
      items: [{ completed_quantity: 3, failed_quantity: 2, status: 'failed' }]
    })
    expect(seeded).not.toHaveProperty('completed_at')
    expect((await get(sim, 'stale-1')).json()).toEqual(seeded)
    expect((await sim.app.inject({ method: 'GET', url: '/_control/orders/stale-1' })).json()).toEqual(seeded)
  })

  it('a completed seed completes every unit and sets completed_at = updated_at', async () => {
    const sim = await simulator()
    const [seeded] = sim.control.seedOrders([{ reference_id: 'done', updated_at: '2026-02-23T08:08:15.000Z' }])
    expect(seeded).toMatchObject({ status: 'completed', completed_at: '2026-02-23T08:08:15.000Z', created_at: '2026-02-23T08:08:15.000Z', items: [{ sku: 'DIAMOND_100', completed_quantity: 1 }] })
  })

  it('seeds 10,000 orders in one call and lists them by status', async () => {
    const sim = await simulator()
    const orders = Array.from({ length: 10_000 }, (_, i) => ({ reference_id: `bulk-${i}`, status: i % 10 === 0 ? 'failed' : 'completed' }))
    const response = await sim.app.inject({ method: 'POST', url: '/_control/orders', payload: { orders } })
    expect(response.json()).toEqual({ created: 10_000 })
    const failed = (await sim.app.inject({ method: 'GET', url: '/_control/orders?status=failed' })).json()
    expect(failed.count).toBe(1000)
    expect(failed.orders[0]).toMatchObject({ reference_id: 'bulk-0', status: 'failed' })
    expect((await sim.app.inject({ method: 'GET', url: '/_control/orders' })).json().count).toBe(10_000)
    expect(sim.control.stats().orders).toEqual({ total: 10_000, byStatus: { pending: 0, processing: 0, completed: 9000, failed: 1000 } })
  })

  it('a seeded pending order moves on with the timer unless progress is false', async () => {
    const sim = await simulator({ autoProgress: true, processingDelayMs: 1, completionDelayMs: 1 })
    sim.control.seedOrders([{ reference_id: 'moving', status: 'pending' }, { reference_id: 'parked', status: 'processing', progress: false }])
    await waitFor(() => sim.control.order('moving')!.status === 'completed', 'the seeded order to complete')
    expect(sim.control.order('parked')!.status).toBe('processing')
  })

  it.each([
    [{ orders: [{ reference_id: 'a' }, { reference_id: 'a' }] }, 409, 'DUPLICATE_REFERENCE'],
    [{ reference_id: 'b', items: [{ sku: 'NOPE' }] }, 400, 'INVALID_SKU'],
    [{ reference_id: 'c', items: [{ sku: 'UC_60', quantity: 2, completed_quantity: 1, failed_quantity: 2 }] }, 400, 'VALIDATION_ERROR'],
    [{ reference_id: 'd', status: 'completed', items: [{ sku: 'UC_60', failed_quantity: 1 }] }, 400, 'VALIDATION_ERROR'],
    [{ reference_id: 'e', status: 'failed', items: [{ sku: 'UC_60', completed_quantity: 1 }] }, 400, 'VALIDATION_ERROR'],
    [{ reference_id: 'f', created_at: '2026-02-23T09:00:00Z', updated_at: '2026-02-23T08:00:00Z' }, 400, 'VALIDATION_ERROR'],
    [{ reference_id: 'g', status: 'shipped' }, 400, 'VALIDATION_ERROR'],
    [{ orders: [{ reference_id: 'h' }, { user_id: 'x' }] }, 400, 'VALIDATION_ERROR']
  ])('refuses %j with %i %s and stores nothing', async (payload, status, code) => {
    const sim = await simulator()
    const response = await sim.app.inject({ method: 'POST', url: '/_control/orders', payload })
    expect(response.statusCode).toBe(status)
    expect(response.json()).toMatchObject({ status, code })
    expect(sim.control.stats().orders.total).toBe(0)
  })

  it('names the seed and field in batch errors', async () => {
    const sim = await simulator()
    const response = await sim.app.inject({ method: 'POST', url: '/_control/orders', payload: { orders: [{ reference_id: 'h' }, { user_id: 'x' }] } })
    expect(response.json().message).toBe('orders[1].reference_id is required')
  })

  it('reset?orders=true forgets orders; a plain reset keeps them', async () => {
    const sim = await simulator()
    sim.control.seedOrders([{ reference_id: 'keep' }])
    await sim.app.inject({ method: 'POST', url: '/_control/reset' })
    expect(sim.control.order('keep')).toBeDefined()
    await sim.app.inject({ method: 'POST', url: '/_control/reset?orders=true' })
    expect(sim.control.order('keep')).toBeUndefined()
  })
})

describe('simulator: API faults', () => {
  it('errorRate answers 500, 502 or 503 with a GameSO error body, before creating anything', async () => {
    const sim = await simulator({ faults: { errorRate: 1 } })
    const statuses = new Set<number>()
    for (let i = 0; i < 30; i++) {
      const response = await create(sim, order(`e-${i}`))
      expect(response.json()).toEqual({ status: response.statusCode, code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) })
      statuses.add(response.statusCode)
    }
    expect([...statuses].sort()).toEqual([500, 502, 503])
    expect(sim.control.stats().orders.total).toBe(0)
  })

  it('rateLimitedRate answers 429 with Retry-After in seconds', async () => {
    const sim = await simulator()
    await sim.app.inject({ method: 'POST', url: '/_control/faults', payload: { rateLimitedRate: 1, retryAfterSeconds: 7 } })
    const response = await get(sim, 'x')
    expect(response.statusCode).toBe(429)
    expect(response.headers['retry-after']).toBe('7')
    expect(response.json()).toEqual({ status: 429, code: 'RATE_LIMITED', message: 'Too many requests' })
  })

  it('a fault rate between 0 and 1 hits some requests, not all', async () => {
    const sim = await simulator({ faults: { errorRate: 0.5 } })
    const statuses = await Promise.all(Array.from({ length: 100 }, async () => (await get(sim, 'x')).statusCode))
    expect(statuses.filter((status) => status === 404).length).toBeGreaterThan(10)
    expect(statuses.filter((status) => status >= 500).length).toBeGreaterThan(10)
  })

  it('down answers 503 to everything, even without a key, until the time is up or it is cleared', async () => {
    const sim = await simulator()
    const set = await sim.app.inject({ method: 'POST', url: '/_control/faults', payload: { downForMs: 60_000 } })
    expect(set.json().downUntil).toMatch(ISO_MS)
    for (const response of [await get(sim, 'x'), await get(sim, 'x', {}), await create(sim, order('y'))]) {
      expect(response.statusCode).toBe(503)
      expect(response.json()).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable' })
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(50)
    }
    const cleared = await sim.app.inject({ method: 'DELETE', url: '/_control/faults' })
    expect(cleared.json()).toMatchObject({ downUntil: null, errorRate: 0 })
    expect((await get(sim, 'x')).statusCode).toBe(404)
  })

  it('a short outage ends by itself', async () => {
    let now = Date.parse('2026-05-01T00:00:00.000Z')
    const sim = await simulator({ faults: { downForMs: 30 } }, { now: () => now })
    expect((await get(sim, 'x')).statusCode).toBe(503)
    now += 29
    expect((await get(sim, 'x')).statusCode).toBe(503)
    now += 1
    expect((await get(sim, 'x')).statusCode).toBe(404)
  })

  it('maxRequestsPerSecond lets the limit through and answers the rest 429 with Retry-After: 1', async () => {
    // The hard limit reads the monotonic clock: held still, all twelve arrive in one instant.
    vi.useFakeTimers({ toFake: ['performance'] })
    try {
      const sim = await simulator({ faults: { maxRequestsPerSecond: 5 } })
      const responses = await Promise.all(Array.from({ length: 12 }, () => get(sim, 'x')))
      expect(responses.filter((response) => response.statusCode === 404)).toHaveLength(5)
      const limited = responses.filter((response) => response.statusCode === 429)
      expect(limited).toHaveLength(7)
      expect(limited.every((response) => response.headers['retry-after'] === '1')).toBe(true)
      expect(sim.control.stats().api.byRoute['GET /v1/orders/:reference_id']).toEqual({ 404: 5, 429: 7 })

      vi.advanceTimersByTime(999)
      expect((await get(sim, 'x')).statusCode).toBe(429)
      vi.advanceTimersByTime(1)
      const next = await Promise.all(Array.from({ length: 6 }, () => get(sim, 'x')))
      expect(next.map((response) => response.statusCode).sort()).toEqual([404, 404, 404, 404, 404, 429])
    } finally {
      vi.useRealTimers()
    }
  })

  it('slowMs holds answers back', async () => {
    const sim = await simulator({ faults: { slowMs: 80 } })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      let answered = false
      const pending = get(sim, 'x').then((response) => {
        answered = true
        return response
      })
      while (sim.control.stats().api.inFlight === 0) await new Promise((resolve) => setImmediate(resolve))
      await vi.advanceTimersByTimeAsync(79)
      expect(answered).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      expect((await pending).statusCode).toBe(404)
    } finally {
      vi.useRealTimers()
    }
  })

  it('closing wakes held-back answers instead of waiting for them', async () => {
    const sim = await simulator({ faults: { slowMs: 60_000 } })
    const pending = get(sim, 'x')
    await waitFor(() => sim.control.stats().api.inFlight === 1, 'the request to arrive')
    await sim.app.close()
    expect((await pending).statusCode).toBe(404)
  })

  it('a fault update changes only the switches it names', async () => {
    const sim = await simulator()
    await sim.app.inject({ method: 'POST', url: '/_control/faults', payload: { errorRate: 0.25, downForMs: 60_000 } })
    const updated = (await sim.app.inject({ method: 'POST', url: '/_control/faults', payload: { slowMs: 5 } })).json()
    expect(updated).toMatchObject({ errorRate: 0.25, slowMs: 5, downUntil: expect.stringMatching(ISO_MS) })
    expect((await get(sim, 'x')).statusCode).toBe(503)
  })

  it('refuses unknown switches and out-of-range values', async () => {
    const sim = await simulator()
    for (const payload of [{ dropRate: 2 }, { bogus: true }, { maxRequestsPerSecond: -1 }]) {
      const response = await sim.app.inject({ method: 'POST', url: '/_control/faults', payload })
      expect(response.statusCode).toBe(400)
      expect(response.json().code).toBe('VALIDATION_ERROR')
    }
    expect((await sim.app.inject({ method: 'GET', url: '/_control/faults' })).json()).toMatchObject({ dropRate: 0, maxRequestsPerSecond: 0 })
  })
})

describe('simulator: stats', () => {
  it('counts calls by route and status, GETs per reference and their peak concurrency', async () => {
    const sim = await simulator({ faults: { slowMs: 50 } })
    await create(sim, order('a'))
    await Promise.all([get(sim, 'a'), get(sim, 'a'), get(sim, 'a'), get(sim, 'b')])
    await get(sim, 'b')
    const { api } = sim.control.stats()
    expect(api.total).toBe(6)
    expect(api.byRoute).toEqual({ 'POST /v1/orders': { 200: 1 }, 'GET /v1/orders/:reference_id': { 200: 3, 404: 2 } })
    expect(api.byStatus).toEqual({ 200: 4, 404: 2 })
    expect(api.getsByReference).toEqual({ a: 3, b: 2 })
    expect(api.maxConcurrentGetsPerReference).toBe(3)
    expect(api.maxConcurrentGetsReference).toBe('a')
    expect(api.maxInFlight).toBe(4)
    expect(api.inFlight).toBe(0)
    expect(api.perSecond.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(6)
    expect(api.firstRequestAt).toMatch(ISO_MS)

    const reset = (await sim.app.inject({ method: 'POST', url: '/_control/reset' })).json()
    expect(reset.api).toMatchObject({ total: 0, byRoute: {}, getsByReference: {}, maxConcurrentGetsPerReference: 0, perSecond: [], firstRequestAt: null })
    await get(sim, 'a')
    await get(sim, 'a')
    expect(sim.control.stats().api.maxConcurrentGetsPerReference).toBe(1)
  })

  it('control calls are not counted as API calls', async () => {
    const sim = await simulator()
    await sim.app.inject({ method: 'GET', url: '/_control/stats' })
    await sim.app.inject({ method: 'GET', url: '/_control/orders' })
    expect((await sim.app.inject({ method: 'GET', url: '/_control/stats' })).json().api.total).toBe(0)
  })
})
