import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatMoney, gamesoOrderResponseSchema, presentGameSoOrder } from '../../src/providers/gameso/gameso-presenter.js'
import type { StoredOrder } from '../../src/domain/stored-order.js'
import { ifNoneMatchMatches } from '../../src/routes/conditional-get.js'
import { decodeCursor, encodeCursor } from '../../src/routes/orders.js'

// Key order of GameSO's own get-order example (docs.gameso.io/api/get-order.html), with
// completed_at where the webhook example carries it: right after the timestamps.
const GET_EXAMPLE_KEYS = [
  'order_number', 'reference_id', 'user_id', 'server_id', 'character_id', 'status', 'subtotal_amount',
  'discount_amount', 'total_amount', 'source_type', 'created_by', 'created_at', 'updated_at', 'failure_code',
  'failure_message', 'items'
]
const GET_EXAMPLE_ITEM_KEYS = [
  'sku', 'quantity', 'completed_quantity', 'failed_quantity', 'status', 'subtotal_amount', 'discount_amount',
  'total_amount', 'failure_code', 'failure_message'
]

function storedOrder (overrides: Partial<StoredOrder> = {}): StoredOrder {
  return {
    id: '7',
    provider: 'gameso',
    reference: 'ref_abc123',
    providerOrderId: 'ord_abc123',
    status: 'completed',
    providerStatus: 'completed',
    userId: 'user_001',
    serverId: 'server_th01',
    characterId: 'char_123',
    currency: 'THB',
    subtotalAmount: '500.00',
    discountAmount: '0.00',
    totalAmount: '500.00',
    sourceType: 'api',
    createdBy: { id: 0, name: 'API' },
    failureCode: null,
    failureMessage: null,
    upstreamCreatedAt: new Date('2025-01-15T10:30:00.000Z'),
    upstreamUpdatedAt: new Date('2025-01-15T10:35:00.000Z'),
    completedAt: null,
    createdAt: new Date('2025-01-15T10:30:01.123Z'),
    updatedAt: new Date('2025-01-15T10:35:01.456Z'),
    items: [{
      sku: 'DIAMOND_100',
      quantity: 5,
      completedQuantity: 5,
      failedQuantity: 0,
      status: 'completed',
      subtotalAmount: '500.00',
      discountAmount: '0.00',
      totalAmount: '500.00',
      failureCode: null,
      failureMessage: null
    }],
    ...overrides
  }
}

describe('GameSO presenter', () => {
  it('reproduces the get-order example of GameSO\'s docs, key for key and in order', () => {
    const body = presentGameSoOrder(storedOrder())
    expect(JSON.stringify(body)).toBe(JSON.stringify({
      order_number: 'ord_abc123',
      reference_id: 'ref_abc123',
      user_id: 'user_001',
      server_id: 'server_th01',
      character_id: 'char_123',
      status: 'completed',
      subtotal_amount: '500.00',
      discount_amount: '0.00',
      total_amount: '500.00',
      source_type: 'api',
      created_by: { id: 0, name: 'API' },
      created_at: '2025-01-15T10:30:00.000Z',
      updated_at: '2025-01-15T10:35:00.000Z',
      failure_code: null,
      failure_message: null,
      items: [{
        sku: 'DIAMOND_100',
        quantity: 5,
        completed_quantity: 5,
        failed_quantity: 0,
        status: 'completed',
        subtotal_amount: '500.00',
        discount_amount: '0.00',
        total_amount: '500.00',
        failure_code: null,
        failure_message: null
      }]
    }))
  })

  it('adds completed_at after the timestamps only when the order has one', () => {
    const body = presentGameSoOrder(storedOrder({ completedAt: new Date('2025-01-15T10:35:00.000Z') }))
    const keys = Object.keys(body)
    expect(keys).toEqual([...GET_EXAMPLE_KEYS.slice(0, 13), 'completed_at', ...GET_EXAMPLE_KEYS.slice(13)])
    expect(body.completed_at).toBe('2025-01-15T10:35:00.000Z')
    expect(Object.keys(presentGameSoOrder(storedOrder()))).toEqual(GET_EXAMPLE_KEYS)
    expect(Object.keys(presentGameSoOrder(storedOrder()).items[0]!)).toEqual(GET_EXAMPLE_ITEM_KEYS)
  })

  it('is exactly what its response schema describes, so sending it without zod\'s re-check changes nothing', () => {
    const body = presentGameSoOrder(storedOrder({ completedAt: new Date('2025-01-15T10:35:00.000Z') }))
    expect(JSON.stringify(gamesoOrderResponseSchema.parse(body))).toBe(JSON.stringify(body))
  })

  it('shows an order GameSO has not reported yet with nulls and the mirror\'s own record times', () => {
    const body = presentGameSoOrder(storedOrder({
      providerOrderId: null,
      status: 'pending',
      currency: null,
      subtotalAmount: null,
      discountAmount: null,
      totalAmount: null,
      sourceType: null,
      createdBy: null,
      upstreamCreatedAt: null,
      upstreamUpdatedAt: null,
      items: [{ ...storedOrder().items[0]!, completedQuantity: null, failedQuantity: null, status: null, subtotalAmount: null, discountAmount: null, totalAmount: null }]
    }))
    expect(body).toMatchObject({
      order_number: null,
      status: 'pending',
      total_amount: null,
      created_by: null,
      created_at: '2025-01-15T10:30:01.123Z',
      updated_at: '2025-01-15T10:35:01.456Z'
    })
    expect(body.items[0]).toMatchObject({ sku: 'DIAMOND_100', quantity: 5, completed_quantity: null, total_amount: null })
    expect(gamesoOrderResponseSchema.safeParse(body).success).toBe(true)
  })
})

describe('formatMoney', () => {
  it.each([
    ['500', '500.00'],
    ['500.5', '500.50'],
    ['500.00', '500.00'],
    ['0', '0.00'],
    ['-3.1', '-3.10'],
    ['100.123', '100.123']
  ])('writes THB %s as %s', (stored, shown) => {
    expect(formatMoney(stored, 'THB')).toBe(shown)
  })

  it('leaves other currencies with their own number of decimals, and null as null', () => {
    expect(formatMoney('100.123', 'USD')).toBe('100.123')
    expect(formatMoney('100', 'JPY')).toBe('100')
    expect(formatMoney(null, 'THB')).toBeNull()
  })

  it('never changes the value of an amount', () => {
    // Two decimal strings are the same amount when they agree once trailing fractional zeros go.
    const canonical = (value: string) => value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.integer({ min: 0, max: 4 }), (units, scale) => {
      const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0')
      const stored = `${units < 0n ? '-' : ''}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`
      const shown = formatMoney(stored, 'THB') ?? ''
      expect(shown).toMatch(/^-?\d+\.\d{2,}$/)
      expect(canonical(shown)).toBe(canonical(stored))
    }))
  })
})

describe('list cursor', () => {
  it('round-trips a position, with or without an upstream clock', () => {
    for (const cursor of [{ updatedAt: new Date('2026-02-23T08:08:15.123Z'), id: '42' }, { updatedAt: null, id: '9007199254740993' }]) {
      expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor)
    }
  })

  it.each([
    ['not base64 json', 'x!'],
    ['a JSON object', Buffer.from('{"a":1}').toString('base64url')],
    ['a non-numeric id', Buffer.from('[null,"1 OR 1=1"]').toString('base64url')],
    ['a bad timestamp', Buffer.from('["yesterday","1"]').toString('base64url')],
    ['extra elements', Buffer.from('[null,"1",2]').toString('base64url')]
  ])('rejects %s', (_name, value) => {
    expect(decodeCursor(value)).toBeNull()
  })
})

describe('If-None-Match', () => {
  const etag = '"abc"'
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"zzz", "abc"', true],
    ['*', true],
    ['"zzz"', false],
    ['abc', false],
    [undefined, false]
  ])('%s matches: %s', (header, expected) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(expected)
  })
})
