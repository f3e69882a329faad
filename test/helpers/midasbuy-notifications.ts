import { generateKeyPairSync } from 'node:crypto'
import { signMidasBuyNotification } from '../../src/providers/midasbuy/midasbuy-signature.js'

/** One RSA key pair per test process, made here: MidasBuy's platform key and the private half it signs with. */
export const midasbuyKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})

/** Distinct, UUID-shaped ids for notifications and nonces, the same in every run. */
let issued = 0
function nextId (): string {
  return `00000000-0000-4000-8000-${(++issued).toString(16).padStart(12, '0')}`
}

export interface PriceInput { currency: string, amount: string }

export interface MidasBuyOrderInput {
  paymentOrderId: string
  status: string
  updateTime: string
  total?: PriceInput
  items?: Array<{ productId: string, quantity: string, productType?: string, price: PriceInput }>
}

/** A payment order as MidasBuy's OrderQuery documents it (upstream/midasbuy.md §2). */
export function midasbuyOrder (input: MidasBuyOrderInput): Record<string, unknown> {
  const items = input.items ?? [{ productId: 'prod-1', quantity: '1', price: { currency: 'USD', amount: '9.99' } }]
  return {
    app_id: '1450015065',
    create_time: '2026-05-01T00:00:00Z',
    update_time: input.updateTime,
    user_id: 'player-1',
    payment_order_id: input.paymentOrderId,
    server_id: '1001',
    order_status: input.status,
    order_items: items.map((item) => ({
      product_id: item.productId,
      game_product_id: `game-${item.productId}`,
      quantity: item.quantity,
      product_type: item.productType ?? 'VIRTUAL_CURRENCY',
      price: item.price
    })),
    total_price: input.total ?? { currency: 'USD', amount: '9.99' },
    shop_region: 'US',
    payment_channel: 'CREDIT_CARD'
  }
}

/** The webhook envelope around a resource. */
export function notificationBody (resource: unknown, envelope: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    id: nextId(),
    create_time: '2026-05-01T00:00:00Z',
    update_time: '2026-05-01T00:00:00Z',
    event_type: 'PAYMENT.ORDER.STATUS_CHANGED',
    event_version: 'v1',
    resource_type: 'payment_order',
    resource_version: 'v1',
    summary: 'payment order status changed',
    resource,
    ...envelope
  }))
}

/** The headers of a genuine delivery of these bytes, timestamped `at` (Unix seconds, default now). */
export function signedHeaders (body: Buffer | string, options: { at?: number, nonce?: string, privateKey?: string } = {}): Record<string, string> {
  const timestamp = String(options.at ?? Math.floor(Date.now() / 1000))
  const nonce = options.nonce ?? nextId()
  return {
    'content-type': 'application/json',
    'txgw-timestamp': timestamp,
    'txgw-nonce': nonce,
    'txgw-signature': signMidasBuyNotification(options.privateKey ?? midasbuyKeys.privateKey, timestamp, nonce, body)
  }
}
