import type { SimulatorPersonality } from '../simulator/personality.js'
import type { ProviderWebhook } from './provider-webhook.js'

/**
 * Everything the codebase knows about one upstream, as one value. Generic code iterates the
 * registry (`providers/index.ts`) instead of asking which upstream it is talking to.
 */
export interface ProviderModule<Personality extends SimulatorPersonality = SimulatorPersonality> {
  /** The provider's key: in stored orders, in paths such as `/_control/<name>/…`. */
  readonly name: string
  /** How people write it, for logs and docs. */
  readonly displayName: string
  /** How the simulator plays this upstream. */
  readonly simulator: Personality
  /** How it pushes changes: route, signature, envelopes, mapping and replies. */
  readonly webhook: ProviderWebhook
}
