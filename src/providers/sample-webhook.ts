import type { Config } from '../config.js'
import type { Provider } from '../domain/order.js'
import type { StoredLocalCredentials } from './local-credentials-part.js'

// What `npm run send` needs from a provider to act as that upstream: a realistic webhook payload,
// signed exactly as the upstream signs it, and where the mirror takes it and shows the order.

/** A request the sender cannot make as asked; its message says what to change. */
export class SampleWebhookError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SampleWebhookError'
  }
}

/** Where signing keys come from, in the order they are tried. */
export interface SigningContext {
  /** The mirror's configuration with the local credentials standing in for unset variables. */
  config: Config
  /** The local development credentials, when the mirror runs on the embedded PostgreSQL. */
  local: StoredLocalCredentials | null
  /** What `--key-file` holds: it wins over everything else. */
  keyFile: string | null
  now: Date
}

export interface SampleWebhookRequest {
  event: string
  reference: string
  /** The provider's own status; unset takes the event's. */
  status: string | undefined
  now: Date
}

export interface SignedDelivery {
  headers: Record<string, string>
  /** How it was signed, in words for the person running the command (never the key). */
  signing: string
}

/** A stored delivery to send again: its exact bytes and the headers kept with it. */
export interface StoredDelivery {
  body: Buffer
  headers: Record<string, string>
}

export interface SampleWebhookSender {
  provider: Provider
  /** What the provider calls an order's reference, for the usage text: `reference_id`. */
  referenceField: string
  /** What a `--key-file` holds for this provider, for the usage text: `secret`, `private key (PEM)`. */
  keyFileHolds: string
  /** The variable of the mirror's configuration a signing key can come from, if any. */
  configuredKeyVariable: string | null
  /**
   * The secret this upstream's webhooks share with the mirror, for upstreams that sign with one
   * (undefined while none is configured); null for upstreams that sign with a key pair.
   */
  sharedSecret: ((config: Config) => string | undefined) | null
  /** The event names accepted on the command line. */
  events: readonly string[]
  /** The event a first try sends, one that completes an order (the start banner's example). */
  exampleEvent: string
  /** The statuses `--status` accepts. */
  statuses: readonly string[]
  /** The mirror's route for this provider's webhooks. */
  webhookPath: string
  /** The merchant API route that shows an order of this provider. */
  orderPath (reference: string): string
  /** A fresh reference in the provider's style, for a send without `--ref`. */
  newReference (now: Date): string
  /** The exact bytes the upstream would post. Throws SampleWebhookError for an event or status it does not know. */
  build (request: SampleWebhookRequest): Buffer
  /** Signs the bytes as the upstream does. Throws SampleWebhookError when no key can be found. */
  sign (body: Buffer, context: SigningContext): SignedDelivery
  /** Headers to send a stored delivery again with, re-signed only where the stored ones would not verify now. */
  resend (stored: StoredDelivery, context: SigningContext): SignedDelivery
}
