import type { Config } from '../../config.js'
import type { ProviderApi, UpstreamClientDependencies, UpstreamConnection } from '../provider-module.js'
import { bindConnection } from '../upstream-connection.js'
import { createMidasBuyClient, type MidasBuyClient } from './midasbuy-client.js'
import { midasbuyOrderToSnapshot } from './midasbuy-mapping.js'

/** MidasBuy's OrderQuery client bound to its mapping. MidasBuy has no create the mirror can forward. */
export function midasbuyConnection (client: MidasBuyClient, limits: { maxRequestsPerSecond: number, timeoutMs: number }): UpstreamConnection {
  return bindConnection({
    provider: 'midasbuy',
    displayName: 'MidasBuy',
    referenceName: 'payment_order_id',
    client,
    limits,
    toSnapshot: midasbuyOrderToSnapshot
  })
}

export const midasbuyApi: ProviderApi = {
  requires: 'MIDASBUY_APP_ID, MIDASBUY_MERCHANT_PRIVATE_KEY and MIDASBUY_CERT_SERIAL_NO are not set',
  placeholderStatus: 'Created',
  connect (config: Config, deps: UpstreamClientDependencies) {
    const client = createMidasBuyClient(config.midasbuy, deps)
    return client === null ? null : midasbuyConnection(client, config.midasbuy)
  }
}
