import type { ProviderModule } from '../provider-module.js'
import { gamesoLocalCredentials } from './gameso-local-credentials.js'
import { gamesoApi } from './gameso-api.js'
import { gamesoDemo } from './gameso-demo.js'
import { presentGameSoOrder } from './gameso-presenter.js'
import { gamesoRouteExamples } from './gameso-route-examples.js'
import { orderCommandRoutes } from './routes/gameso-order-command-routes.js'
import { gamesoOrderRoutes } from './routes/gameso-order-routes.js'
import { gamesoSimulator } from './simulator/personality.js'
import { gamesoWebhook } from './gameso-webhook.js'
import { gamesoSampleWebhook } from './gameso-sample-webhook.js'

export const gamesoProvider = {
  name: 'gameso',
  displayName: 'GameSO',
  api: gamesoApi,
  simulator: gamesoSimulator,
  webhook: gamesoWebhook,
  localCredentials: gamesoLocalCredentials,
  routes: { merchant: [gamesoOrderRoutes, orderCommandRoutes], ownErrorShape: [] },
  routeExamples: gamesoRouteExamples,
  sample: gamesoSampleWebhook,
  // Exactly what GET /v1/orders/{reference_id} answers, so a GameSO receiver reads it unchanged.
  presentChange: presentGameSoOrder,
  demo: gamesoDemo
} as const satisfies ProviderModule
export { gamesoWebhookVerifier } from './gameso-webhook.js'

declare module '../../domain/order.js' {
  /** This provider's name, for the domain's Provider type. */
  interface ProviderNames { gameso: true }
}
