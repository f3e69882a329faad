import type { ProviderModule } from '../provider-module.js'
import { gamesoSimulator } from './simulator/personality.js'
import { gamesoWebhook } from './gameso-webhook.js'

export const gamesoProvider = {
  name: 'gameso',
  displayName: 'GameSO',
  simulator: gamesoSimulator,
  webhook: gamesoWebhook
} as const satisfies ProviderModule
export { gamesoWebhookVerifier } from './gameso-webhook.js'
