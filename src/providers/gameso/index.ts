import type { ProviderModule } from '../provider-module.js'
import { gamesoApi } from './gameso-api.js'
import { gamesoRouteExamples } from './gameso-route-examples.js'
import { gamesoSimulator } from './simulator/personality.js'
import { gamesoWebhook } from './gameso-webhook.js'
import { gamesoSampleWebhook } from './gameso-sample-webhook.js'

export const gamesoProvider = {
  name: 'gameso',
  displayName: 'GameSO',
  api: gamesoApi,
  simulator: gamesoSimulator,
  webhook: gamesoWebhook,
  routeExamples: gamesoRouteExamples,
  sample: gamesoSampleWebhook
} as const satisfies ProviderModule
export { gamesoWebhookVerifier } from './gameso-webhook.js'
