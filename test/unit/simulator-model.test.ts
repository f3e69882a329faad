import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildCatalog, formatSatang, parseSkuList, toSatang } from '../../src/providers/gameso/simulator/catalog.js'
import {
  applyStatus, ITEM_NOT_FOUND, newItem, nextStatus, planItem, toGameSoOrder, type GameSoOrder, type SimOrder
} from '../../src/providers/gameso/simulator/order.js'
import { SimulatorConfigError, simulatorConfigFromEnv } from '../../src/simulator/options.js'
import { createRandomStreams } from '../../src/simulator/random.js'
import { nextTimestamp } from '../../src/simulator/timestamps.js'

const catalog = buildCatalog([
  { sku: 'DIAMOND_500', price: '500.00' },
  { sku: 'DISCOUNTED', price: '1000.00', discount: '50.00' },
  { sku: 'BROKEN', price: '10.00', unavailable: true },
  { sku: 'FLAKY', price: '0.05', failureRate: 1 }
])

function entry (sku: string) {
  const found = catalog.get(sku)
  if (!found) throw new Error(`no ${sku} in the test catalog`)
  return found
}

function order (items: SimOrder['items'], overrides: Partial<SimOrder> = {}): SimOrder {
  const at = Date.parse('2026-02-23T08:08:10.000Z')
  return {
    orderNumber: 'ord_Np3O7rcsqNmBTwD7',
    referenceId: 'REF-1',
    userId: '123456',
    serverId: null,
    characterId: null,
    status: 'pending',
    items,
    createdAtMs: at,
    updatedAtMs: at,
    completedAtMs: null,
    sendWebhooks: true,
    autoProgress: true,
    ...overrides
  }
}

describe('simulator money', () => {
  it.each([
    ['500.00', 50000], ['0.05', 5], ['1800', 180000], ['175.5', 17550], ['0', 0]
  ])('%s baht is %i satang', (text, satang) => {
    expect(toSatang(text)).toBe(satang)
  })

  it.each([
    [50000, '500.00'], [5, '0.05'], [17550, '175.50'], [0, '0.00'], [123456789, '1234567.89']
  ])('%i satang prints as %s', (satang, text) => {
    expect(formatSatang(satang)).toBe(text)
  })

  it('sums without float drift: 3 × 0.10 is 0.30, not 0.30000000000000004', () => {
    const flaky = newItem(buildCatalog([{ sku: 'DIME', price: '0.10' }]).get('DIME')!, 3, { failedQuantity: 0, failure: { code: 'X', message: 'x' } })
    expect(toGameSoOrder(order([flaky])).total_amount).toBe('0.30')
  })

  it('refuses amounts that are not THB decimals', () => {
    expect(() => toSatang('1.234')).toThrow()
    expect(() => toSatang('-1.00')).toThrow()
    expect(() => buildCatalog([{ sku: 'X', price: '1.00', discount: '2.00' }])).toThrow(/discount exceeds price/)
  })

  it('reads the compact SKU list of SIMULATOR_EXTRA_SKUS', () => {
    expect(parseSkuList(' GEMS_10:10.00, BROKEN:5.00:1 ,')).toEqual([
      { sku: 'GEMS_10', price: '10.00' },
      { sku: 'BROKEN', price: '5.00', failureRate: 1 }
    ])
  })
})

describe('simulator order JSON', () => {
  // GameSO's own webhook examples (docs.gameso.io/webhook/payload.html), byte for byte.
  const docs = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/gameso/${name}`, import.meta.url), 'utf8')).data as GameSoOrder
  const docsCompleted = docs('webhook-order-completed.json')
  const docsFailed = docs('webhook-order-failed.json')
  const ORDER_KEYS = Object.keys(docsFailed)
  const ITEM_KEYS = Object.keys(docsFailed.items[0]!)

  it('the docs\' examples agree on the key order, completed_at aside', () => {
    expect(Object.keys(docsCompleted).filter((key) => key !== 'completed_at')).toEqual(ORDER_KEYS)
    expect(Object.keys(docsCompleted.items[0]!)).toEqual(ITEM_KEYS)
  })

  it('reproduces the docs\' order.completed data exactly, given the same inputs', () => {
    const item = newItem(buildCatalog([{ sku: 'ROMC-Z-1800K', price: '101.00' }]).get('ROMC-Z-1800K')!, 1, { failedQuantity: 0, failure: ITEM_NOT_FOUND })
    const completed = order([item], {
      referenceId: 'ref_RLUFNUHGXXX',
      userId: 'Fiona.DAmore-Bauch',
      createdAtMs: Date.parse('2026-02-23T08:07:44.000Z')
    })
    applyStatus(completed, 'completed', Date.parse('2026-02-23T08:08:15.000Z'))
    expect(JSON.stringify(toGameSoOrder(completed))).toBe(JSON.stringify(docsCompleted))
  })

  it('reproduces the docs\' order.failed data exactly, given the same inputs', () => {
    const item = newItem(buildCatalog([{ sku: 'DIAMOND_999', price: '100.00' }]).get('DIAMOND_999')!, 1, { failedQuantity: 1, failure: ITEM_NOT_FOUND })
    const failed = order([item], {
      orderNumber: 'ord_xyz789',
      referenceId: 'ref_xyz789',
      userId: 'user_002',
      createdAtMs: Date.parse('2026-02-23T08:07:44.000Z')
    })
    applyStatus(failed, 'failed', Date.parse('2026-02-23T08:08:15.000Z'))
    expect(JSON.stringify(toGameSoOrder(failed))).toBe(JSON.stringify(docsFailed))
  })

  it('a pending order has the documented keys, nulls and no completed_at', () => {
    const json = toGameSoOrder(order([newItem(entry('DIAMOND_500'), 1, { failedQuantity: 0, failure: { code: 'X', message: 'x' } })]))
    expect(Object.keys(json)).toEqual(ORDER_KEYS)
    expect(Object.keys(json.items[0]!)).toEqual(ITEM_KEYS)
    expect(json).toMatchObject({
      order_number: 'ord_Np3O7rcsqNmBTwD7',
      server_id: null,
      character_id: null,
      status: 'pending',
      failure_code: null,
      failure_message: null,
      subtotal_amount: '500.00',
      discount_amount: '0.00',
      total_amount: '500.00',
      source_type: 'api',
      created_by: { id: 0, name: 'API' },
      created_at: '2026-02-23T08:08:10.000Z',
      updated_at: '2026-02-23T08:08:10.000Z'
    })
    expect(json.items[0]).toEqual({
      sku: 'DIAMOND_500',
      quantity: 1,
      completed_quantity: 0,
      failed_quantity: 0,
      status: 'pending',
      subtotal_amount: '500.00',
      discount_amount: '0.00',
      total_amount: '500.00',
      failure_code: null,
      failure_message: null
    })
  })

  it('a completed order carries completed_at right after updated_at, equal to it', () => {
    const completed = order([newItem(entry('DISCOUNTED'), 2, { failedQuantity: 0, failure: { code: 'X', message: 'x' } })])
    applyStatus(completed, 'completed', Date.parse('2026-02-23T08:08:15.000Z'))
    const json = toGameSoOrder(completed)
    expect(Object.keys(json)).toEqual(Object.keys(docsCompleted))
    expect(json.completed_at).toBe('2026-02-23T08:08:15.000Z')
    expect(json.updated_at).toBe(json.completed_at)
    expect(json).toMatchObject({ subtotal_amount: '2000.00', discount_amount: '100.00', total_amount: '1900.00' })
    expect(json.items[0]).toMatchObject({ completed_quantity: 2, failed_quantity: 0, status: 'completed', total_amount: '1900.00' })
  })

  it('a failed order copies the first failed item\'s failure and has no completed_at', () => {
    const failure = { code: 'ITEM_NOT_FOUND', message: 'Product SKU not found in provider system' }
    const failed = order([
      newItem(entry('DIAMOND_500'), 1, { failedQuantity: 0, failure }),
      newItem(entry('FLAKY'), 5, { failedQuantity: 2, failure }),
      newItem(entry('BROKEN'), 1, { failedQuantity: 1, failure: { code: 'OTHER', message: 'other' } })
    ])
    applyStatus(failed, 'failed', Date.parse('2026-02-23T08:08:15.000Z'))
    const json = toGameSoOrder(failed)
    expect(json).not.toHaveProperty('completed_at')
    expect(json).toMatchObject({ status: 'failed', failure_code: 'ITEM_NOT_FOUND', failure_message: 'Product SKU not found in provider system' })
    expect(json.items.map((item) => [item.status, item.completed_quantity, item.failed_quantity, item.failure_code])).toEqual([
      ['completed', 1, 0, null],
      ['failed', 3, 2, 'ITEM_NOT_FOUND'],
      ['failed', 0, 1, 'OTHER']
    ])
  })
})

describe('simulator progression rules', () => {
  const random = () => createRandomStreams(42).orders

  it('moves pending → processing → completed, or failed when any unit is planned to fail', () => {
    const good = order([newItem(entry('DIAMOND_500'), 1, { failedQuantity: 0, failure: { code: 'X', message: 'x' } })])
    expect(nextStatus(good)).toBe('processing')
    applyStatus(good, 'processing', good.updatedAtMs + 1)
    expect(good.items[0]!.status).toBe('processing')
    expect(nextStatus(good)).toBe('completed')
    applyStatus(good, 'completed', good.updatedAtMs + 1)
    expect(nextStatus(good)).toBeUndefined()

    const bad = order([newItem(entry('FLAKY'), 5, { failedQuantity: 1, failure: { code: 'X', message: 'x' } })], { status: 'processing' })
    expect(nextStatus(bad)).toBe('failed')
  })

  it('updated_at grows strictly, also within one millisecond and when the clock steps back', () => {
    expect(nextTimestamp(1000, 1000)).toBe(1001)
    expect(nextTimestamp(1000, 900)).toBe(1001)
    expect(nextTimestamp(1000, 1500)).toBe(1500)
  })

  it('an unavailable SKU fails every unit; a failing line fails 1 … quantity units', () => {
    const rng = random()
    expect(planItem(entry('BROKEN'), 3, rng, 0).failedQuantity).toBe(3)
    const failed = Array.from({ length: 200 }, () => planItem(entry('FLAKY'), 5, rng, 0).failedQuantity)
    expect(Math.min(...failed)).toBe(1)
    expect(Math.max(...failed)).toBe(5)
    expect(failed.some((count) => count > 0 && count < 5)).toBe(true)
    expect(Array.from({ length: 50 }, () => planItem(entry('DIAMOND_500'), 5, rng, 0).failedQuantity)).toEqual(Array(50).fill(0))
  })

  it('the same seed draws the same outcomes, and fault draws do not shift them', () => {
    const first = createRandomStreams(7)
    const second = createRandomStreams(7)
    for (let i = 0; i < 100; i++) second.api.chance(0.5)
    expect(Array.from({ length: 20 }, () => first.orders.alphanumeric(16))).toEqual(Array.from({ length: 20 }, () => second.orders.alphanumeric(16)))
    expect(createRandomStreams(8).orders.alphanumeric(16)).not.toBe(createRandomStreams(7).orders.alphanumeric(16))
  })

  it('a reorder shuffle never keeps the original order', () => {
    const rng = random()
    for (let size = 2; size < 8; size++) {
      for (let round = 0; round < 50; round++) {
        const values = Array.from({ length: size }, (_, index) => index)
        const shuffled = rng.derange(values)
        expect([...shuffled].sort((a, b) => a - b)).toEqual(values)
        expect(shuffled).not.toEqual(values)
      }
    }
  })
})

describe('simulator configuration from the environment', () => {
  it('applies defaults', () => {
    const config = simulatorConfigFromEnv({})
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4010, logLevel: 'info' })
    expect(config.options).toMatchObject({
      apiKey: 'sim_api_key',
      webhookUrls: [],
      webhookSecret: null,
      signatureHeader: 'x-gameso-signature',
      signaturePrefix: '',
      webhookEvents: ['completed', 'failed'],
      maxRetries: 3,
      retryDelayMs: 60000,
      processingDelayMs: 1000,
      completionDelayMs: 1000,
      autoProgress: true
    })
    expect(config.options.faults).toMatchObject({ dropRate: 0, reorder: false, maxRequestsPerSecond: 0, downForMs: 0 })
  })

  it('reads every kind of variable', () => {
    const { options, port } = simulatorConfigFromEnv({
      SIMULATOR_PORT: '0',
      SIMULATOR_SEED: '99',
      SIMULATOR_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/gameso, http://127.0.0.1:3001/webhooks/gameso',
      SIMULATOR_WEBHOOK_SECRET: 'whsec',
      SIMULATOR_SIGNATURE_HEADER: 'X-Signature',
      SIMULATOR_WEBHOOK_EVENTS: 'processing,completed,failed',
      SIMULATOR_AUTO_PROGRESS: 'no',
      SIMULATOR_EXTRA_SKUS: 'GEMS_10:10.00:0.5',
      SIMULATOR_REORDER: 'true',
      SIMULATOR_MAX_RPS: '50',
      SIMULATOR_DROP_RATE: ''
    })
    expect(port).toBe(0)
    expect(options).toMatchObject({
      seed: 99,
      webhookUrls: ['http://127.0.0.1:3000/webhooks/gameso', 'http://127.0.0.1:3001/webhooks/gameso'],
      webhookSecret: 'whsec',
      signatureHeader: 'x-signature',
      webhookEvents: ['processing', 'completed', 'failed'],
      autoProgress: false,
      extraSkus: [{ sku: 'GEMS_10', price: '10.00', failureRate: 0.5 }]
    })
    expect(options.faults).toMatchObject({ reorder: true, maxRequestsPerSecond: 50, dropRate: 0 })
  })

  it('names every bad variable at once', () => {
    let problems: readonly string[] = []
    try {
      simulatorConfigFromEnv({ SIMULATOR_PORT: 'x', SIMULATOR_DROP_RATE: '2', SIMULATOR_WEBHOOK_URL: 'ftp://a', SIMULATOR_REORDER: 'maybe', SIMULATOR_EXTRA_SKUS: 'A:abc' })
    } catch (error) {
      if (!(error instanceof SimulatorConfigError)) throw error
      problems = error.problems
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'SIMULATOR_DROP_RATE', 'SIMULATOR_EXTRA_SKUS', 'SIMULATOR_PORT', 'SIMULATOR_REORDER', 'SIMULATOR_WEBHOOK_URL'
    ])
  })
})
