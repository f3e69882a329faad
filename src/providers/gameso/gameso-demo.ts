import type { DemoOrderState, ProviderDemo } from '../provider-demo.js'

// GameSO in `npm run demo`: orders created through the mirror (POST /v1/orders), which forwards
// them to the simulated GameSO; the simulator drops some of its webhooks and the reconciler heals
// the orders those would have finished.

const SIMULATOR_API_KEY = 'demo-gameso-key'
const WEBHOOK_SECRET = 'demo-webhook-secret'
const FINAL_STATUSES = new Set(['completed', 'failed'])

/** A mix of products: most complete, GEMS_FLAKY often fails part of its units, LEGACY_PACK always fails. */
const BASKETS: ReadonlyArray<ReadonlyArray<{ sku: string, quantity: number }>> = [
  [{ sku: 'DIAMOND_100', quantity: 1 }],
  [{ sku: 'UC_325', quantity: 2 }, { sku: 'WELKIN_MOON', quantity: 1 }],
  [{ sku: 'GEMS_FLAKY', quantity: 3 }],
  [{ sku: 'DIAMOND_1000', quantity: 1 }],
  [{ sku: 'ROMC-Z-1800K', quantity: 1 }, { sku: 'UC_60', quantity: 5 }],
  [{ sku: 'LEGACY_PACK', quantity: 1 }],
  [{ sku: 'DIAMOND_500', quantity: 2 }]
]

interface MirroredOrder {
  status: string
  failure_code: string | null
  items: Array<{ quantity: number, failed_quantity: number | null }>
}

function describeOrder (answer: unknown): DemoOrderState {
  const order = answer as MirroredOrder
  const units = order.items.reduce((sum, item) => sum + item.quantity, 0)
  const failed = order.items.reduce((sum, item) => sum + (item.failed_quantity ?? 0), 0)
  const succeeded = order.status === 'completed'
  return {
    final: FINAL_STATUSES.has(order.status),
    providerStatus: order.status,
    succeeded,
    summary: succeeded
      ? `completed  ${units}/${units} units`
      : `${order.status.padEnd(10)} ${failed}/${units} units failed${order.failure_code ? ` (${order.failure_code})` : ''}`
  }
}

export const gamesoDemo: ProviderDemo = {
  ordersHeading: 'created through the mirror (POST /v1/orders), forwarded to GameSO',
  simulatorEnvironment: ({ serviceUrl, dropRate }) => ({
    SIMULATOR_API_KEY,
    SIMULATOR_WEBHOOK_URL: `${serviceUrl}/webhooks/gameso`,
    SIMULATOR_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SIMULATOR_PROCESSING_DELAY_MS: '1000',
    SIMULATOR_COMPLETION_DELAY_MS: '1000',
    SIMULATOR_DROP_RATE: String(dropRate)
  }),
  serviceEnvironment: async (simulatorUrl) => ({
    GAMESO_BASE_URL: simulatorUrl,
    GAMESO_API_KEY: SIMULATOR_API_KEY,
    GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET
  }),
  async placeOrder ({ merchant, runId, index }) {
    const reference = `demo-${runId}-${String(index + 1).padStart(2, '0')}`
    const basket = BASKETS[index % BASKETS.length] ?? []
    const created = await merchant<{ status?: string }>('POST', '/v1/orders', {
      reference_id: reference, user_id: `player-${(index % 5) + 1}`, items: basket
    })
    if (created.status !== 200) throw new Error(`creating ${reference} answered ${created.status} ${JSON.stringify(created.json)}`)
    return { reference, status: created.json.status ?? '', basket: basket.map((item) => `${item.quantity}× ${item.sku}`).join(', ') }
  },
  orderPath: (reference) => `/v1/orders/${encodeURIComponent(reference)}`,
  describe: describeOrder,
  exploreCommands: (serviceUrl, key, example) => [
    `curl -s ${key} ${serviceUrl}/v1/orders/${example}`,
    `curl -s ${key} ${serviceUrl}/v1/orders/${example}/history`,
    `curl -s ${key} '${serviceUrl}/v1/orders?status=failed&limit=5'`,
    `curl -s -X POST ${key} -H 'content-type: application/json' -d '{"reference_id":"my-first","user_id":"me","items":[{"sku":"DIAMOND_100"}]}' ${serviceUrl}/v1/orders`,
    `curl -s -X POST ${key} ${serviceUrl}/v1/orders/my-first/sync`,
    `curl -s -X POST ${key} ${serviceUrl}/v1/orders/created-elsewhere/track`
  ]
}
