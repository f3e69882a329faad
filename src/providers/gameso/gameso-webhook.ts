import { z } from 'zod'
import { ACKNOWLEDGED_OUTCOMES, describeIssues, type DeliveryReading, type ProviderWebhook, type WebhookVerifier } from '../provider-webhook.js'
import { gamesoOrderToSnapshot } from './gameso-mapping.js'
import { gamesoOrderSchema, gamesoWebhookEnvelopeSchema } from './gameso-schemas.js'
import { createGameSoSignatureVerifier } from './gameso-signature.js'

export interface GameSoWebhookSettings {
  secrets: readonly string[]
  /** Lower-case header name. */
  signatureHeader: string
}

/** Headers worth keeping with the raw body for audits; nothing that authenticates the mirror itself. */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-forwarded-for']

const ORDER_EVENT = /^order\./

/** The verifier for these secrets (rotation: any match accepts); null when there is none. */
export function gamesoWebhookVerifier (settings: GameSoWebhookSettings): WebhookVerifier | null {
  if (settings.secrets.length === 0) return null
  const verify = createGameSoSignatureVerifier(settings.secrets)
  return {
    keptHeaders: [...KEPT_HEADERS, settings.signatureHeader],
    check (body, headers) {
      const signature = verify(body, headers[settings.signatureHeader])
      if (signature.valid) return { valid: true }
      const problem = signature.reason === 'missing' ? 'Missing' : 'Invalid'
      return { valid: false, reason: signature.reason, message: `${problem} webhook signature` }
    }
  }
}

function fieldOf (value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
}

/** A GameSO envelope → the order snapshot it carries, or why it carries none. */
function readEnvelope (payload: unknown): DeliveryReading {
  const envelope = gamesoWebhookEnvelopeSchema.safeParse(payload)
  if (!envelope.success) return { outcome: 'invalid', error: describeIssues(envelope.error.issues) }
  if (!ORDER_EVENT.test(envelope.data.event)) return { outcome: 'ignored', error: `event ${envelope.data.event} is not an order event` }
  const order = gamesoOrderSchema.safeParse(envelope.data.data)
  if (!order.success) {
    const issues = order.error.issues.map((issue) => ({ ...issue, path: ['data', ...issue.path] }))
    return { outcome: 'invalid', error: describeIssues(issues) }
  }
  return { snapshot: gamesoOrderToSnapshot(order.data) }
}

const receivedSchema = z.object({
  received: z.literal(true),
  outcome: z.enum(ACKNOWLEDGED_OUTCOMES)
}).describe('The delivery is stored; `outcome` says what it did to the order')

/** `POST /webhooks/gameso` (SPEC §2.1): one envelope `{event, timestamp, data}`, HMAC-signed, answered in GameSO's own shapes. */
export const gamesoWebhook: ProviderWebhook = {
  path: '/webhooks/gameso',
  summary: 'GameSO order webhook',
  describe: (config) => `Body \`{event, timestamp, data: <order>}\` as \`application/json\`, signed with HMAC-SHA256 over the raw bytes in header \`${config.gameso.signatureHeader}\` (hex or base64, optional \`sha256=\`). Stored in the inbox before the answer.`,
  verifierFromConfig: (config) => gamesoWebhookVerifier({ secrets: config.gameso.webhookSecrets, signatureHeader: config.gameso.signatureHeader }),
  notConfigured: { status: 503, message: 'No GameSO webhook secret is configured; retry later' },
  requires: 'GAMESO_WEBHOOK_SECRETS',
  secretHeaders: (config) => [config.gameso.signatureHeader, 'x-gameso-signature'],
  clock: {
    in: 'body',
    label: 'Webhook timestamp',
    read: (payload) => {
      const envelope = gamesoWebhookEnvelopeSchema.safeParse(payload)
      return envelope.success ? envelope.data.timestamp : null
    }
  },
  arrayBodies: null,
  labels (envelope) {
    const event = fieldOf(envelope, 'event')
    const reference = fieldOf(fieldOf(envelope, 'data'), 'reference_id')
    return {
      eventType: typeof event === 'string' ? event : null,
      reference: typeof reference === 'string' && reference.length > 0 ? reference : null
    }
  },
  read: readEnvelope,
  replies: {
    // GameSO's body is one envelope: its one outcome.
    acknowledge: (outcomes) => ({ received: true, outcome: outcomes[0] }),
    acknowledgedSchema: receivedSchema,
    failure: null,
    failureStatuses: [400, 401, 413, 415, 503]
  }
}
