import { createHash, randomInt } from 'node:crypto'
import { SampleWebhookError, type SampleWebhookSender, type SignedDelivery, type SigningContext, type StoredDelivery } from '../sample-webhook.js'
import { GAMESO_DOCS_COMPLETED_WEBHOOK, GAMESO_DOCS_FAILED_WEBHOOK } from './gameso-doc-examples.js'
import { GAMESO_STATUSES, type GameSoOrder, type GameSoStatus } from './gameso-schemas.js'
import { createGameSoSignatureVerifier, signGameSoBody } from './gameso-signature.js'

// The webhook GameSO posts when an order changes status (upstream/gameso.md §5): the envelope
// `{event, timestamp, data}` around an order built from the docs' own example, for the reference
// and status asked for, signed with HMAC-SHA256 over the raw bytes.

const EVENTS = GAMESO_STATUSES.map((status) => `order.${status}`)

/** The docs' example order was created 31 s before its webhook. */
const ORDER_AGE_MS = 31_000

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function isGameSoStatus (value: string): value is GameSoStatus {
  return (GAMESO_STATUSES as readonly string[]).includes(value)
}

/** GameSO's `ord_` + 16 alphanumerics, derived from the reference so every send for one order names the same order. */
function orderNumberFor (reference: string): string {
  const digest = createHash('sha256').update(reference).digest()
  return `ord_${Array.from(digest.subarray(0, 16), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('')}`
}

/** The docs' completed example (its user and item), moved to `status`; a failure is the docs' ITEM_NOT_FOUND. */
function orderFor (reference: string, status: GameSoStatus, now: Date): GameSoOrder {
  const example = GAMESO_DOCS_COMPLETED_WEBHOOK.data
  const failure = GAMESO_DOCS_FAILED_WEBHOOK.data
  const item = example.items[0]
  const failed = status === 'failed'
  const updatedAt = now.toISOString()
  // Keys in the order of the docs' example.
  return {
    order_number: orderNumberFor(reference),
    reference_id: reference,
    user_id: example.user_id,
    server_id: null,
    character_id: null,
    status,
    failure_code: failed ? failure.failure_code : null,
    failure_message: failed ? failure.failure_message : null,
    subtotal_amount: example.subtotal_amount,
    discount_amount: example.discount_amount,
    total_amount: example.total_amount,
    created_at: new Date(now.getTime() - ORDER_AGE_MS).toISOString(),
    updated_at: updatedAt,
    source_type: example.source_type,
    created_by: example.created_by,
    // Present only once completed, as in the docs' examples.
    ...(status === 'completed' ? { completed_at: updatedAt } : {}),
    items: item === undefined
      ? []
      : [{
          ...item,
          completed_quantity: status === 'completed' ? item.quantity : 0,
          failed_quantity: failed ? item.quantity : 0,
          status,
          failure_code: failed ? failure.failure_code : null,
          failure_message: failed ? failure.failure_message : null
        }]
  }
}

function signingKey (context: SigningContext): { key: string, from: string } {
  if (context.keyFile !== null) return { key: context.keyFile.trim(), from: '--key-file' }
  const key = context.config.gameso.webhookSecrets[0]
  if (key === undefined) {
    throw new SampleWebhookError('no GameSO webhook secret to sign with: set GAMESO_WEBHOOK_SECRETS, start the mirror on the embedded PostgreSQL (it makes a local one), or pass --key-file')
  }
  return { key, from: key === context.local?.gameso_webhook_secret ? 'the local webhook secret' : 'the first of GAMESO_WEBHOOK_SECRETS' }
}

function sign (body: Buffer, context: SigningContext): SignedDelivery {
  const header = context.config.gameso.signatureHeader
  const { key, from } = signingKey(context)
  return {
    headers: { 'content-type': 'application/json', [header]: signGameSoBody(body, key) },
    signing: `HMAC-SHA256 of the body (hex) in ${header}, with ${from}`
  }
}

/** Why the mirror would refuse these bytes now whatever the signature: the timestamp is inside the signed body. */
function staleTimestamp (body: Buffer, context: SigningContext): string | null {
  const tolerance = context.config.webhooks.toleranceSeconds
  let timestamp: unknown
  try {
    timestamp = (JSON.parse(body.toString('utf8')) as { timestamp?: unknown }).timestamp
  } catch {
    return null
  }
  if (tolerance === 0 || typeof timestamp !== 'number') return null
  const age = Math.round(context.now.getTime() / 1000 - timestamp)
  return Math.abs(age) > tolerance
    ? `; its timestamp is ${age} s old, beyond WEBHOOK_TOLERANCE_SECONDS (${tolerance}), and it is part of the signed body, so expect 401 TIMESTAMP_OUT_OF_TOLERANCE`
    : null
}

function resend (stored: StoredDelivery, context: SigningContext): SignedDelivery {
  const header = context.config.gameso.signatureHeader
  const contentType = stored.headers['content-type'] ?? 'application/json'
  const kept = stored.headers[header]
  const warning = staleTimestamp(stored.body, context) ?? ''
  // GameSO signs the body alone: the signature it arrived with still holds while its secret is configured.
  if (kept !== undefined && createGameSoSignatureVerifier(context.config.gameso.webhookSecrets)(stored.body, kept).valid) {
    return { headers: { 'content-type': contentType, [header]: kept }, signing: `not re-signed: the ${header} it arrived with still verifies${warning}` }
  }
  const signed = sign(stored.body, context)
  const why = kept === undefined ? `the stored row has no ${header}` : 'the signature it arrived with matches no configured secret'
  return { headers: { ...signed.headers, 'content-type': contentType }, signing: `re-signed (${why}): ${signed.signing}${warning}` }
}

export const gamesoSampleWebhook: SampleWebhookSender = {
  provider: 'gameso',
  referenceField: 'reference_id',
  keyFileHolds: 'secret',
  configuredKeyVariable: 'GAMESO_WEBHOOK_SECRETS',
  sharedSecret: (config) => config.gameso.webhookSecrets[0],
  events: EVENTS,
  exampleEvent: 'order.completed',
  statuses: GAMESO_STATUSES,
  webhookPath: '/webhooks/gameso',
  orderPath: (reference) => `/v1/orders/${encodeURIComponent(reference)}`,
  // In the style of the docs' `ref_RLUFNUHGXXX`.
  newReference: () => `ref_${Array.from({ length: 11 }, () => ALPHANUMERIC[randomInt(26)]).join('')}`,
  build ({ event, reference, status, now }) {
    const named = /^order\.(.+)$/.exec(event)?.[1]
    if (named === undefined) throw new SampleWebhookError(`GameSO events are order.<status>: ${EVENTS.join(', ')} (got "${event}")`)
    const chosen = status ?? named
    if (!isGameSoStatus(chosen)) {
      throw new SampleWebhookError(status === undefined
        ? `"${named}" is not a GameSO status: name one with --status (${GAMESO_STATUSES.join(', ')})`
        : `--status must be one of ${GAMESO_STATUSES.join(', ')} for GameSO (got "${status}")`)
    }
    return Buffer.from(JSON.stringify({ event, timestamp: Math.floor(now.getTime() / 1000), data: orderFor(reference, chosen, now) }))
  },
  sign,
  resend
}
