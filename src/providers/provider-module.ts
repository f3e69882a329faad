import type { RouteExamples } from '../docs/route-example-types.js'
import type { SimulatorPersonality } from '../simulator/personality.js'
import type { ProviderWebhook } from './provider-webhook.js'
import type { SampleWebhookSender } from './sample-webhook.js'

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
  /** How `npm run send` and the sandbox act as this upstream: build, sign and post its webhooks. */
  readonly sample: SampleWebhookSender
  /** What /docs shows for this provider's routes, by `METHOD /path`. */
  readonly routeExamples: Readonly<Record<string, RouteExamples>>
}
