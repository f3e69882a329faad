import type { ProviderModule } from '../provider-module.js'
import { midasbuyApi } from './midasbuy-api.js'
import { midasbuyRouteExamples } from './midasbuy-route-examples.js'
import { midasbuySimulator } from './simulator/personality.js'
import { midasbuyWebhook } from './midasbuy-webhook.js'
import { midasbuySampleNotification } from './midasbuy-sample-notification.js'

export const midasbuyProvider = {
  name: 'midasbuy',
  displayName: 'MidasBuy',
  api: midasbuyApi,
  simulator: midasbuySimulator,
  webhook: midasbuyWebhook,
  routeExamples: midasbuyRouteExamples,
  sample: midasbuySampleNotification
} as const satisfies ProviderModule
export { midasbuyWebhookVerifier } from './midasbuy-webhook.js'
