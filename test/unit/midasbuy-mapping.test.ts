import { describe, expect, it } from 'vitest'
import { isFinalMidasBuyStatus, midasbuyOrderToSnapshot, midasbuyStatusRank } from '../../src/providers/midasbuy/midasbuy-mapping.js'
import { formatMidasBuyTime } from '../../src/providers/midasbuy/midasbuy-presenter.js'
import { isPaymentOrderResource, midasbuyOrderSchema, midasbuyWebhookEnvelopeSchema } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { midasbuyOrder } from '../helpers/midasbuy-notifications.js'

function parse (order: Record<string, unknown>) {
  return midasbuyOrderSchema.parse(order)
}

function issuePaths (order: Record<string, unknown>): string[] {
  const result = midasbuyOrderSchema.safeParse(order)
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'))
}

describe('MidasBuy order schema', () => {
  it('accepts the documented order, unknown product types and extra fields', () => {
    const order: Record<string, unknown> = { ...midasbuyOrder({ paymentOrderId: 'SG2024113000900', status: 'Paid', updateTime: '2026-05-01T00:00:01Z' }), future_field: 1 }
    const items = (order.order_items as Array<Record<string, unknown>>).map((item) => ({ ...item, product_type: 'VIRTUAL_GOOD' }))
    expect(parse({ ...order, order_items: items }).order_items[0]?.product_type).toBe('VIRTUAL_GOOD')
  })

  it('accepts an order without shop_region and payment_channel', () => {
    const { shop_region: _region, payment_channel: _channel, ...order } = midasbuyOrder({ paymentOrderId: 'p', status: 'Created', updateTime: '2026-05-01T00:00:00Z' })
    expect(parse(order).shop_region).toBeUndefined()
  })

  it.each(['UNDEFINED', 'Cancelled', 'paid', ''])('refuses order_status %j', (status) => {
    expect(issuePaths(midasbuyOrder({ paymentOrderId: 'p', status, updateTime: '2026-05-01T00:00:00Z' }))).toEqual(['order_status'])
  })

  it.each([
    ['amount as a number', { total_price: { currency: 'USD', amount: 9.99 } }, ['total_price.amount']],
    ['amount with a comma', { total_price: { currency: 'USD', amount: '9,99' } }, ['total_price.amount']],
    ['lower-case currency', { total_price: { currency: 'usd', amount: '9.99' } }, ['total_price.currency']],
    ['no items', { order_items: [] }, ['order_items']],
    ['quantity as a number', { order_items: [{ product_id: 'a', game_product_id: 'b', quantity: 1, product_type: 'X', price: { currency: 'USD', amount: '1' } }] }, ['order_items.0.quantity']],
    ['negative quantity', { order_items: [{ product_id: 'a', game_product_id: 'b', quantity: '-1', product_type: 'X', price: { currency: 'USD', amount: '1' } }] }, ['order_items.0.quantity']],
    ['update_time without a zone', { update_time: '2026-05-01T00:00:00' }, ['update_time']],
    ['empty payment_order_id', { payment_order_id: '' }, ['payment_order_id']]
  ])('refuses %s, naming the field', (_name, change, paths) => {
    expect(issuePaths({ ...midasbuyOrder({ paymentOrderId: 'p', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }), ...change })).toEqual(paths)
  })

  it.each(['100', '100.123', '9.99', '-1.5', '.5', '0'])('accepts the documented amount form %j', (amount) => {
    expect(parse({ ...midasbuyOrder({ paymentOrderId: 'p', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' }), total_price: { currency: 'TND', amount } }).total_price.amount).toBe(amount)
  })
})

describe('MidasBuy envelope', () => {
  it('needs only id and a resource object; event and resource types are free strings', () => {
    expect(midasbuyWebhookEnvelopeSchema.safeParse({ id: 'w', resource: {} }).success).toBe(true)
    expect(midasbuyWebhookEnvelopeSchema.safeParse({ id: 'w', event_type: 'ANYTHING.NEW', resource: {} }).success).toBe(true)
    expect(midasbuyWebhookEnvelopeSchema.safeParse({ id: '', resource: {} }).success).toBe(false)
    expect(midasbuyWebhookEnvelopeSchema.safeParse({ id: 'w', resource: 'x' }).success).toBe(false)
  })

  it('takes a resource with payment_order_id and order_status for a payment order, and nothing else', () => {
    expect(isPaymentOrderResource({ payment_order_id: 'p', order_status: 'Paid' })).toBe(true)
    expect(isPaymentOrderResource({ promotion_order_id: 'x', payment_order_id: 'p', promotion_items: [] })).toBe(false)
    expect(isPaymentOrderResource({ app_id: 'a', user_id: 'u' })).toBe(false)
  })
})

describe('MidasBuy order → snapshot', () => {
  it.each([
    ['Created', 'pending', 1, false],
    ['Paid', 'processing', 2, false],
    ['Finished', 'completed', 3, true],
    ['Refunded', 'refunded', 4, true]
  ] as const)('maps %s to %s, rank %i, final %s', (status, canonical, rank, final) => {
    const snapshot = midasbuyOrderToSnapshot(parse(midasbuyOrder({ paymentOrderId: 'p', status, updateTime: '2026-05-01T00:00:00Z' })))
    expect(snapshot).toMatchObject({ status: canonical, providerStatus: status, statusRank: rank, isFinal: final })
    expect(midasbuyStatusRank(status)).toBe(rank)
    expect(isFinalMidasBuyStatus(status)).toBe(final)
  })

  it('keeps ids, amounts exactly as sent, times and MidasBuy-only attributes', () => {
    const snapshot = midasbuyOrderToSnapshot(parse(midasbuyOrder({
      paymentOrderId: 'SG1',
      status: 'Paid',
      updateTime: '2026-05-01T09:00:00+09:00',
      total: { currency: 'TND', amount: '100.120' },
      items: [
        { productId: 'gems', quantity: '12', productType: 'VIRTUAL_GOOD', price: { currency: 'TND', amount: '100.120' } },
        { productId: 'pass', quantity: '0', price: { currency: 'JPY', amount: '100' } }
      ]
    })))
    expect(snapshot).toMatchObject({
      provider: 'midasbuy',
      reference: 'SG1',
      providerOrderId: 'SG1',
      userId: 'player-1',
      serverId: '1001',
      currency: 'TND',
      totalAmount: '100.120',
      subtotalAmount: null,
      providerAttributes: { app_id: '1450015065', shop_region: 'US', payment_channel: 'CREDIT_CARD' },
      upstreamCreatedAt: new Date('2026-05-01T00:00:00Z'),
      upstreamUpdatedAt: new Date('2026-05-01T00:00:00Z')
    })
    expect(snapshot.items).toMatchObject([
      { productId: 'gems', gameProductId: 'game-gems', productType: 'VIRTUAL_GOOD', quantity: 12, currency: 'TND', priceAmount: '100.120', sku: null },
      { productId: 'pass', quantity: 0, currency: 'JPY', priceAmount: '100' }
    ])
  })

  it('stores null for attributes MidasBuy left out', () => {
    const { shop_region: _region, payment_channel: _channel, ...order } = midasbuyOrder({ paymentOrderId: 'p', status: 'Paid', updateTime: '2026-05-01T00:00:00Z' })
    expect(midasbuyOrderToSnapshot(parse(order)).providerAttributes).toEqual({ app_id: '1450015065', shop_region: null, payment_channel: null })
  })
})

describe('MidasBuy time format', () => {
  it('writes whole seconds as MidasBuy does, and keeps milliseconds when there are any', () => {
    expect(formatMidasBuyTime(new Date('2021-11-08T05:45:20Z'))).toBe('2021-11-08T05:45:20Z')
    expect(formatMidasBuyTime(new Date('2021-11-08T05:45:20.250Z'))).toBe('2021-11-08T05:45:20.250Z')
  })
})
