import type { ProviderModule } from '../provider-module.js'
import { midasbuySimulator } from './simulator/personality.js'
import { midasbuyWebhook } from './midasbuy-webhook.js'

export const midasbuyProvider = {
  name: 'midasbuy',
  displayName: 'MidasBuy',
  simulator: midasbuySimulator,
  webhook: midasbuyWebhook
} as const satisfies ProviderModule
export { midasbuyWebhookVerifier } from './midasbuy-webhook.js'
