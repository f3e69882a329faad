import type { ProviderModule } from '../provider-module.js'
import { midasbuyLocalCredentials } from './midasbuy-local-credentials.js'
import { midasbuyApi } from './midasbuy-api.js'
import { midasbuyDemo } from './midasbuy-demo.js'
import { presentMidasBuyOrderAtChange } from './midasbuy-order-change.js'
import { midasbuyRouteExamples } from './midasbuy-route-examples.js'
import { midasbuyOrderQueryRoute } from './routes/midasbuy-order-query-route.js'
import { midasbuyOrderRoutes } from './routes/midasbuy-order-routes.js'
import { midasbuySimulator } from './simulator/personality.js'
import { midasbuyWebhook } from './midasbuy-webhook.js'
import { midasbuySampleNotification } from './midasbuy-sample-notification.js'

export const midasbuyProvider = {
  name: 'midasbuy',
  displayName: 'MidasBuy',
  api: midasbuyApi,
  simulator: midasbuySimulator,
  webhook: midasbuyWebhook,
  localCredentials: midasbuyLocalCredentials,
  // OrderQuery answers every error in MidasBuy's `{name, message, debug_id}`, the scope's too.
  routes: { merchant: [midasbuyOrderRoutes], ownErrorShape: [midasbuyOrderQueryRoute] },
  routeExamples: midasbuyRouteExamples,
  sample: midasbuySampleNotification,
  // OrderQuery's shape, as GET /v1/midasbuy/orders/{payment_order_id} answers.
  presentChange: presentMidasBuyOrderAtChange,
  demo: midasbuyDemo
} as const satisfies ProviderModule
export { midasbuyWebhookVerifier } from './midasbuy-webhook.js'

declare module '../../domain/order.js' {
  /** This provider's name, for the domain's Provider type. */
  interface ProviderNames { midasbuy: true }
}
