import type { DemoOrderState, ProviderDemo } from '../provider-demo.js'

// MidasBuy in `npm run demo`: a player buys on MidasBuy (the simulator's purchase control stands
// in for MidasBuy's pages), the merchant hears of the payment_order_id from the client SDK and
// asks the mirror to follow it (track). Payment notifications then move it on — unless they are
// dropped, and then the reconciler's OrderQuery polls heal it. The first order's notifications are
// all withheld, so every run shows an order that only polling can finish.

const FINAL_STATUSES = new Set(['Finished', 'Refunded'])

/** Baskets in currencies of different scales; VIRTUAL_GOOD is outside the documented enum, as in the docs' own example. */
const BASKETS = [
  { currency: 'USD', items: [{ product_id: 'uc_325', quantity: 1, price: '4.99' }] },
  { currency: 'JPY', items: [{ product_id: 'gems_500', quantity: 2, price: '800' }] },
  { currency: 'TND', items: [{ product_id: 'dinar_pack', quantity: 1, price: '100.123', product_type: 'VIRTUAL_GOOD' }] },
  { currency: 'USD', items: [{ product_id: 'battle_pass', quantity: 1, price: '9.99', product_type: 'SUBSCRIPTION' }] }
] as const

interface OrderQueryOrder {
  payment_order_id: string
  order_status: string
  order_items: Array<{ product_id: string, quantity: string }>
  total_price: { currency: string, amount: string }
}

interface SimulatorCredentials {
  app_id: string
  merchant_cert_serial_no: string | null
  merchant_private_key?: string
  platform_public_key: string
}

async function simulatorControl<T> (simulatorUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${simulatorUrl}/_control/midasbuy${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  })
  if (!response.ok) throw new Error(`the MidasBuy simulator answered ${method} ${path} with ${response.status}: ${await response.text()}`)
  return await response.json() as T
}

/** What was bought and for how much, amounts at their currency's own scale. */
function describeBasket (order: OrderQueryOrder): string {
  const items = order.order_items.map((item) => `${item.quantity}× ${item.product_id}`).join(', ')
  return `${items}  ${order.total_price.amount} ${order.total_price.currency}`
}

function describeOrder (answer: unknown): DemoOrderState {
  const order = answer as OrderQueryOrder
  return {
    final: FINAL_STATUSES.has(order.order_status),
    providerStatus: order.order_status,
    succeeded: order.order_status === 'Finished',
    summary: `${order.order_status.padEnd(10)} ${describeBasket(order)}`
  }
}

export const midasbuyDemo: ProviderDemo = {
  ordersHeading: 'bought by players on MidasBuy, followed by the mirror (POST /v1/midasbuy/orders/{id}/track)',
  simulatorEnvironment: ({ serviceUrl, dropRate }) => ({
    SIMULATOR_MIDASBUY_WEBHOOK_URL: `${serviceUrl}/webhooks/midasbuy/payment_notification`,
    SIMULATOR_MIDASBUY_PAID_DELAY_MS: '1000',
    SIMULATOR_MIDASBUY_FINISH_DELAY_MS: '1000',
    // Refunds come later than a short demo waits; a refund is applied like any notification.
    SIMULATOR_MIDASBUY_REFUND_RATE: '0',
    SIMULATOR_MIDASBUY_DROP_RATE: String(dropRate)
  }),
  async serviceEnvironment (simulatorUrl) {
    // The simulator made the merchant key pair at start and hands out the private half.
    const credentials = await simulatorControl<SimulatorCredentials>(simulatorUrl, 'GET', '/credentials')
    if (credentials.merchant_private_key === undefined) throw new Error('the MidasBuy simulator did not generate a merchant key pair')
    return {
      MIDASBUY_BASE_URL: simulatorUrl,
      MIDASBUY_APP_ID: credentials.app_id,
      MIDASBUY_MERCHANT_PRIVATE_KEY: credentials.merchant_private_key,
      MIDASBUY_CERT_SERIAL_NO: credentials.merchant_cert_serial_no ?? '1',
      MIDASBUY_PLATFORM_PUBLIC_KEY: credentials.platform_public_key
    }
  },
  async placeOrder ({ simulatorUrl, merchant, runId, index }) {
    const withheld = index === 0
    const basket = BASKETS[index % BASKETS.length] ?? BASKETS[0]
    const bought = await simulatorControl<OrderQueryOrder>(simulatorUrl, 'POST', '/purchases', {
      payment_order_id: `SGDEMO${runId.toUpperCase()}${String(index + 1).padStart(2, '0')}`,
      user_id: `player-${(index % 5) + 1}`,
      ...basket,
      refund: false,
      send_notifications: !withheld
    })
    const tracked = await merchant<unknown>('POST', `/v1/midasbuy/orders/${encodeURIComponent(bought.payment_order_id)}/track`)
    if (tracked.status !== 202 && tracked.status !== 200) {
      throw new Error(`tracking ${bought.payment_order_id} answered ${tracked.status} ${JSON.stringify(tracked.json)}`)
    }
    return {
      reference: bought.payment_order_id,
      status: bought.order_status,
      basket: describeBasket(bought),
      ...(withheld ? { withheld: 'MidasBuy sends none of its notifications' } : {})
    }
  },
  orderPath: (reference) => `/v1/midasbuy/orders/${encodeURIComponent(reference)}`,
  describe: describeOrder,
  exploreCommands: (serviceUrl, key, example) => [
    `curl -s ${key} ${serviceUrl}/v1/midasbuy/orders/${example}`,
    `curl -s ${key} '${serviceUrl}/v1/orders/${example}/history?provider=midasbuy'`,
    `curl -s -X POST ${key} -H 'content-type: application/json' -d '{"id":"${example}"}' ${serviceUrl}/midasbuy/v2/orders`,
    `curl -s -X POST ${key} ${serviceUrl}/v1/midasbuy/orders/${example}/sync`
  ]
}
