import { createPublicKey, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { describeIssues, type DeliveryReading, type ProviderWebhook, type WebhookVerifier } from '../provider-webhook.js'
import { midasbuyOrderToSnapshot } from './midasbuy-mapping.js'
import { isPaymentOrderResource, midasbuyOrderSchema, midasbuyWebhookEnvelopeSchema } from './midasbuy-schemas.js'
import { createMidasBuySignatureVerifier, NONCE_HEADER, TIMESTAMP_HEADER } from './midasbuy-signature.js'

export interface MidasBuyWebhookSettings {
  /** The platform public key; null when none is configured (every live delivery then answers 500). */
  publicKey: KeyObject | null
  /** Lower-case header name. */
  signatureHeader: string
}

/** Headers worth keeping with the raw body: what re-verifying the signature needs, and audit context. */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-forwarded-for', TIMESTAMP_HEADER, NONCE_HEADER, 'txgw-serial']

/**
 * The most envelopes one notification body may hold. Each envelope is its own inbox row and
 * merge, all started at once, so without a bound one signed request could fan out into as many
 * merges as the body limit leaves room for (tens of thousands of tiny elements in a raised
 * limit). MidasBuy documents no batching and the arrays its pages show hold one envelope, so no
 * genuine delivery comes near this.
 */
export const MAX_NOTIFICATION_ENVELOPES = 500

/** The verifier for the platform key; null when there is none. */
export function midasbuyWebhookVerifier (settings: MidasBuyWebhookSettings): WebhookVerifier | null {
  if (settings.publicKey === null) return null
  const verify = createMidasBuySignatureVerifier(settings.publicKey, settings.signatureHeader)
  return {
    keptHeaders: [...KEPT_HEADERS, settings.signatureHeader],
    check (body, headers) {
      const signature = verify(body, headers)
      if (signature.valid) return { valid: true, signedAt: signature.timestamp }
      const problem = signature.reason === 'missing' ? 'Missing' : 'Invalid'
      return { valid: false, reason: signature.reason, message: `${problem} ${signature.header} header` }
    }
  }
}

function resourceOf (payload: unknown): Record<string, unknown> | null {
  if (typeof payload !== 'object' || payload === null) return null
  const resource = (payload as { resource?: unknown }).resource
  return typeof resource === 'object' && resource !== null ? resource as Record<string, unknown> : null
}

/** A MidasBuy envelope → the payment order snapshot it carries, or why it carries none. */
function readEnvelope (payload: unknown): DeliveryReading {
  const envelope = midasbuyWebhookEnvelopeSchema.safeParse(payload)
  if (!envelope.success) return { outcome: 'invalid', error: describeIssues(envelope.error.issues) }
  if (!isPaymentOrderResource(envelope.data.resource)) {
    return { outcome: 'ignored', error: `event ${envelope.data.event_type ?? '(no event_type)'} is not a payment order notification` }
  }
  const order = midasbuyOrderSchema.safeParse(envelope.data.resource)
  if (!order.success) {
    const issues = order.error.issues.map((issue) => ({ ...issue, path: ['resource', ...issue.path] }))
    return { outcome: 'invalid', error: describeIssues(issues) }
  }
  return { snapshot: midasbuyOrderToSnapshot(order.data) }
}

const processedSchema = z.object({
  processed: z.literal(true),
  message: z.string().describe('What the delivery did to the order: `applied`, `duplicate`, `stale` or `ignored`; for an array, one per envelope, in order, comma-separated')
}).describe('Stored; MidasBuy stops pushing this notification')

const failedSchema = z.object({
  processed: z.literal(false),
  message: z.string()
}).describe('Not processed; MidasBuy pushes it again (1 s … 168 h)')

/**
 * `POST /webhooks/midasbuy/payment_notification` (SPEC §2.1): one envelope or a JSON array of
 * them, RSA-signed over `Txgw-Timestamp\nTxgw-Nonce\nbody\n`, answered in MidasBuy's
 * `{processed, message}`. Every failure MidasBuy should simply retry (database down, no key
 * configured, anything unexpected) is its documented 500. A refusal of the delivery itself keeps
 * its 4xx: MidasBuy retries any error for nine days either way, which is what lets a genuine
 * notification through once a rotated key or a parser fix is in place, while 4xx keeps a
 * sender's fault apart from an outage in dashboards and alerts. A 200 would end the retries and
 * lose the update.
 */
export const midasbuyWebhook: ProviderWebhook = {
  path: '/webhooks/midasbuy/payment_notification',
  summary: 'MidasBuy payment notification',
  describe: (config) => 'Envelope `{id, create_time, update_time, event_type, event_version, resource_type, resource_version, summary, resource}`, ' +
    `or a JSON array of at most ${MAX_NOTIFICATION_ENVELOPES} envelopes (each stored and merged on its own; a longer array is refused whole and stored as invalid), ` +
    `as \`application/json\`, signed with RSA-SHA256 (Base64, header \`${config.midasbuy.signatureHeader}\`) over ` +
    '`Txgw-Timestamp\\nTxgw-Nonce\\nbody\\n`. A resource carrying payment_order_id and order_status is a payment order; ' +
    'anything else is stored as ignored. Stored in the inbox before the answer.',
  verifierFromConfig: (config) => {
    const pem = config.midasbuy.platformPublicKey
    return midasbuyWebhookVerifier({ publicKey: pem === undefined ? null : createPublicKey(pem), signatureHeader: config.midasbuy.signatureHeader })
  },
  notConfigured: { status: 500, message: 'No MidasBuy platform public key is configured; retry later' },
  requires: 'MIDASBUY_PLATFORM_PUBLIC_KEY',
  secretHeaders: (config) => [config.midasbuy.signatureHeader, 'txgw-signature'],
  // Txgw-Timestamp is Unix seconds (as MidasPay documents it; MidasBuy's docs cut off before saying).
  clock: { in: 'header', label: TIMESTAMP_HEADER },
  arrayBodies: { maxEnvelopes: MAX_NOTIFICATION_ENVELOPES },
  labels (envelope) {
    const reference = resourceOf(envelope)?.payment_order_id
    const event = typeof envelope === 'object' && envelope !== null ? (envelope as { event_type?: unknown }).event_type : undefined
    return {
      eventType: typeof event === 'string' ? event : null,
      reference: typeof reference === 'string' && reference.length > 0 ? reference : null
    }
  },
  read: readEnvelope,
  replies: {
    acknowledge: (outcomes) => ({ processed: true, message: outcomes.join(', ') }),
    acknowledgedSchema: processedSchema,
    failure: {
      schema: failedSchema,
      shape: '`{processed, message}`',
      body: (message) => ({ processed: false, message }),
      serverErrorStatus: 500
    },
    failureStatuses: [400, 401, 413, 415, 500]
  }
}
