import { generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { currencyScale, formatMinorUnits, toMinorUnits } from '../../src/providers/midasbuy/simulator/money.js'
import { nextStatus, toOrderQuery, type SimPaymentOrder } from '../../src/providers/midasbuy/simulator/order.js'
import { SimulatorConfigError, simulatorConfigFromEnv } from '../../src/simulator/options.js'

function order (overrides: Partial<SimPaymentOrder> = {}): SimPaymentOrder {
  return {
    paymentOrderId: 'SG2024113000900',
    appId: '1450015065',
    userId: '12345678',
    serverId: '1',
    status: 'Finished',
    currency: 'TND',
    scale: 3,
    items: [{ productId: 'com.games.abc.sku1', gameProductId: 'com.games.abc.sku1', quantity: 1, productType: 'VIRTUAL_GOOD', unitMinor: 100_123n }],
    shopRegion: 'US',
    paymentChannel: 'CREDIT_CARD',
    createdAtMs: Date.parse('2021-11-08T05:45:20Z'),
    updatedAtMs: Date.parse('2021-11-08T05:45:20Z'),
    refunds: false,
    sendNotifications: false,
    autoProgress: true,
    ...overrides
  }
}

describe('simulated MidasBuy amounts', () => {
  it.each([['JPY', 0], ['KRW', 0], ['USD', 2], ['IDR', 2], ['EUR', 2], ['TND', 3], ['KWD', 3], ['CLF', 4]])('%s has %i decimals', (currency, scale) => {
    expect(currencyScale(currency)).toBe(scale)
  })

  it.each<[string, number, bigint | null]>([
    ['100', 0, 100n], ['100.', 0, null], ['1.5', 0, null], ['9.99', 2, 999n], ['9.9', 2, 990n], ['9', 2, 900n],
    ['100.123', 2, null], ['100.123', 3, 100_123n], ['0.001', 3, 1n], ['-1', 2, null], ['1e3', 2, null], ['', 2, null]
  ])('%s at scale %i is %s minor units', (amount, scale, minor) => {
    expect(toMinorUnits(amount, scale)).toBe(minor)
  })

  it('writes amounts at the currency\'s scale, and reads back what it writes', () => {
    expect([formatMinorUnits(320n, 0), formatMinorUnits(747n, 2), formatMinorUnits(3000n, 3), formatMinorUnits(5n, 2)]).toEqual(['320', '7.47', '3.000', '0.05'])
    // Amounts read in have at most 12 whole digits.
    const amounts = fc.integer({ min: 0, max: 3 }).chain((scale) => fc.tuple(fc.bigInt({ min: 0n, max: 10n ** BigInt(12 + scale) - 1n }), fc.constant(scale)))
    fc.assert(fc.property(amounts, ([minor, scale]) => {
      expect(toMinorUnits(formatMinorUnits(minor, scale), scale)).toBe(minor)
    }))
  })
})

describe('simulated MidasBuy order JSON', () => {
  it('reproduces the docs\' OrderQuery example key for key, with a currency its amount fits', () => {
    // developer.midasbuy.com OrderQuery example, its USD "100.123" swapped for TND (3 decimals).
    const docs = '{"app_id":"1450015065","create_time":"2021-11-08T05:45:20Z","update_time":"2021-11-08T05:45:20Z","user_id":"12345678","payment_order_id":"SG2024113000900","server_id":"1","order_status":"Finished","order_items":[{"product_id":"com.games.abc.sku1","game_product_id":"com.games.abc.sku1","quantity":"1","product_type":"VIRTUAL_GOOD","price":{"currency":"TND","amount":"100.123"}}],"total_price":{"currency":"TND","amount":"100.123"},"shop_region":"US","payment_channel":"CREDIT_CARD"}'
    expect(JSON.stringify(toOrderQuery(order()))).toBe(docs)
  })

  it('totals quantity × unit price and writes whole seconds', () => {
    const json = toOrderQuery(order({
      currency: 'JPY',
      scale: 0,
      items: [{ productId: 'a', gameProductId: 'a', quantity: 3, productType: 'VIRTUAL_CURRENCY', unitMinor: 160n }, { productId: 'b', gameProductId: 'b', quantity: 1, productType: 'POINTS', unitMinor: 40n }],
      updatedAtMs: Date.parse('2026-05-01T10:00:00.999Z')
    }))
    expect(json.total_price).toEqual({ currency: 'JPY', amount: '520' })
    expect(json.order_items.map((item) => item.price.amount)).toEqual(['160', '40'])
    expect(json.update_time).toBe('2026-05-01T10:00:00Z')
  })

  it('moves Created → Paid → Finished, and on to Refunded only when drawn so', () => {
    expect(nextStatus(order({ status: 'Created' }))).toBe('Paid')
    expect(nextStatus(order({ status: 'Paid' }))).toBe('Finished')
    expect(nextStatus(order({ status: 'Finished' }))).toBeUndefined()
    expect(nextStatus(order({ status: 'Finished', refunds: true }))).toBe('Refunded')
    expect(nextStatus(order({ status: 'Refunded', refunds: true }))).toBeUndefined()
  })
})

describe('simulated MidasBuy configuration from the environment', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } })
  const oneLine = (pem: string) => pem.trim().replaceAll('\n', '\\n')

  it('keeps its options under its name, with defaults, beside the first upstream\'s at the top', () => {
    const { options } = simulatorConfigFromEnv({})
    expect(options).toMatchObject({ apiKey: 'sim_api_key', midasbuy: { appId: '1450015065', merchantPublicKey: null, platformPrivateKey: null, signedUrlForm: 'path', arrayBodies: 'never', refundRate: 0.1, requestToleranceSeconds: 300 } })
    expect(options.midasbuy.retryScheduleMs).toEqual([1000, 60_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000])
    expect(options.midasbuy.faults).toMatchObject({ dropRate: 0, maxRequestsPerSecond: 0 })
  })

  it('reads SIMULATOR_MIDASBUY_* variables, one-line PEMs included', () => {
    const { options } = simulatorConfigFromEnv({
      SIMULATOR_MIDASBUY_APP_ID: '1450000001',
      SIMULATOR_MIDASBUY_MERCHANT_PUBLIC_KEY: oneLine(keys.publicKey),
      SIMULATOR_MIDASBUY_PLATFORM_PRIVATE_KEY: oneLine(keys.privateKey),
      SIMULATOR_MIDASBUY_SIGNED_URL_FORM: 'absolute',
      SIMULATOR_MIDASBUY_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/midasbuy/payment_notification',
      SIMULATOR_MIDASBUY_WEBHOOK_RETRY_SCHEDULE_MS: '10, 20',
      SIMULATOR_MIDASBUY_ARRAY_BODIES: 'random',
      SIMULATOR_MIDASBUY_NOTIFICATION_STATUSES: 'Paid,Refunded',
      SIMULATOR_MIDASBUY_DROP_RATE: '0.3',
      SIMULATOR_MIDASBUY_AUTO_PROGRESS: 'no',
      SIMULATOR_DROP_RATE: '0.1'
    })
    expect(options.faults.dropRate).toBe(0.1)
    expect(options.midasbuy).toMatchObject({
      appId: '1450000001',
      merchantPublicKey: keys.publicKey.trim(),
      platformPrivateKey: keys.privateKey.trim(),
      signedUrlForm: 'absolute',
      webhookUrls: ['http://127.0.0.1:3000/webhooks/midasbuy/payment_notification'],
      retryScheduleMs: [10, 20],
      arrayBodies: 'random',
      notificationStatuses: ['Paid', 'Refunded'],
      autoProgress: false,
      faults: { dropRate: 0.3 }
    })
  })

  it('names every bad variable, and never prints a key', () => {
    let problems: readonly string[] = []
    try {
      simulatorConfigFromEnv({
        SIMULATOR_MIDASBUY_MERCHANT_PUBLIC_KEY: oneLine(keys.privateKey),
        SIMULATOR_MIDASBUY_PLATFORM_PRIVATE_KEY: 'not a key',
        SIMULATOR_MIDASBUY_DROP_RATE: '2',
        SIMULATOR_MIDASBUY_ARRAY_BODIES: 'sometimes',
        SIMULATOR_MIDASBUY_SIGNED_URL_FORM: 'relative',
        SIMULATOR_MIDASBUY_WEBHOOK_RETRY_SCHEDULE_MS: '10,soon'
      })
    } catch (error) {
      if (!(error instanceof SimulatorConfigError)) throw error
      problems = error.problems
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'SIMULATOR_MIDASBUY_ARRAY_BODIES', 'SIMULATOR_MIDASBUY_DROP_RATE', 'SIMULATOR_MIDASBUY_MERCHANT_PUBLIC_KEY',
      'SIMULATOR_MIDASBUY_PLATFORM_PRIVATE_KEY', 'SIMULATOR_MIDASBUY_SIGNED_URL_FORM', 'SIMULATOR_MIDASBUY_WEBHOOK_RETRY_SCHEDULE_MS'
    ])
    expect(problems.join('\n')).not.toContain(keys.privateKey.split('\n')[1])
  })
})
