import { createPrivateKey, createPublicKey, randomBytes, randomInt, randomUUID, type KeyObject } from 'node:crypto'
import { SampleWebhookError, type SampleWebhookSender, type SignedDelivery, type SigningContext, type StoredDelivery } from '../sample-webhook.js'
import { MIDASBUY_DOCS_NOTIFICATION } from './midasbuy-doc-examples.js'
import { formatMidasBuyTime } from './midasbuy-presenter.js'
import { MIDASBUY_STATUSES, type MidasBuyStatus } from './midasbuy-schemas.js'
import { createMidasBuySignatureVerifier, NONCE_HEADER, signMidasBuyNotification, TIMESTAMP_HEADER } from './midasbuy-signature.js'

// The payment notification MidasBuy pushes on every order_status change (upstream/midasbuy.md §4):
// the documented envelope around an OrderQuery-shaped order, signed with RSA-SHA256 over
// `Txgw-Timestamp\nTxgw-Nonce\nbody\n` with the platform's private key.

const EVENT = 'payment_notification'
const DEFAULT_STATUS: MidasBuyStatus = 'Paid'

/** The docs' sample order was created 42 s before it was paid. */
const ORDER_AGE_MS = 42_000

function isMidasBuyStatus (value: string): value is MidasBuyStatus {
  return (MIDASBUY_STATUSES as readonly string[]).includes(value)
}

function privateKeyOf (pem: string, from: string): KeyObject {
  try {
    return createPrivateKey(pem)
  } catch {
    throw new SampleWebhookError(`${from} does not hold an RSA private key in PEM form`)
  }
}

/**
 * The platform's private key. Only the local development key pair has one here: with a real
 * MidasBuy public key configured, MidasBuy alone can sign, unless --key-file brings a key.
 */
function signingKey (context: SigningContext): { key: KeyObject, from: string } {
  if (context.keyFile !== null) return { key: privateKeyOf(context.keyFile, '--key-file'), from: '--key-file' }
  const localPublicKey = context.local?.midasbuy_platform_public_key
  const localPrivateKey = context.local?.midasbuy_platform_private_key
  const configured = context.config.midasbuy.platformPublicKey
  if (localPublicKey === undefined || localPrivateKey === undefined || configured === undefined || configured.trim() !== localPublicKey.trim()) {
    throw new SampleWebhookError(configured === undefined
      ? 'no MidasBuy platform key: start the mirror on the embedded PostgreSQL (it makes a local key pair), or pass --key-file with a private key whose public half is MIDASBUY_PLATFORM_PUBLIC_KEY'
      : 'MIDASBUY_PLATFORM_PUBLIC_KEY is configured, so only its private half can sign: pass it with --key-file')
  }
  return { key: privateKeyOf(localPrivateKey, 'the local credentials file'), from: 'the local platform private key' }
}

function signAt (body: Buffer, context: SigningContext): SignedDelivery {
  const header = context.config.midasbuy.signatureHeader
  const { key, from } = signingKey(context)
  const timestamp = String(Math.floor(context.now.getTime() / 1000))
  const nonce = randomBytes(16).toString('hex')
  return {
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [NONCE_HEADER]: nonce,
      [header]: signMidasBuyNotification(key, timestamp, nonce, body)
    },
    signing: `RSA-SHA256 over ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and the body (Base64) in ${header}, with ${from}`
  }
}

/** Why the stored headers would not pass now: a signature the configured key refuses, or a timestamp out of tolerance. */
function storedHeadersFail (stored: StoredDelivery, context: SigningContext): string | null {
  const pem = context.config.midasbuy.platformPublicKey
  if (pem === undefined) return 'no platform public key is configured to check them against'
  const check = createMidasBuySignatureVerifier(createPublicKey(pem), context.config.midasbuy.signatureHeader)(stored.body, stored.headers)
  if (!check.valid) return `its ${check.header} does not verify (${check.reason})`
  const tolerance = context.config.webhooks.toleranceSeconds
  const age = Math.round(context.now.getTime() / 1000 - Number(check.timestamp))
  if (tolerance > 0 && !(Math.abs(age) <= tolerance)) return `its ${TIMESTAMP_HEADER} is ${age} s old, beyond WEBHOOK_TOLERANCE_SECONDS (${tolerance})`
  return null
}

function resend (stored: StoredDelivery, context: SigningContext): SignedDelivery {
  const contentType = stored.headers['content-type'] ?? 'application/json'
  const failure = storedHeadersFail(stored, context)
  if (failure === null) {
    const header = context.config.midasbuy.signatureHeader
    const kept = Object.fromEntries([TIMESTAMP_HEADER, NONCE_HEADER, header].map((name) => [name, stored.headers[name] ?? '']))
    return { headers: { 'content-type': contentType, ...kept }, signing: `not re-signed: the ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${header} it arrived with still verify` }
  }
  // The timestamp is signed with the body, so a fresh one needs a fresh signature; the body stays byte for byte.
  const signed = signAt(stored.body, context)
  return { headers: { ...signed.headers, 'content-type': contentType }, signing: `re-signed with a fresh ${TIMESTAMP_HEADER} and ${NONCE_HEADER} (${failure}): ${signed.signing}` }
}

export const midasbuySampleNotification: SampleWebhookSender = {
  provider: 'midasbuy',
  referenceField: 'payment_order_id',
  keyFileHolds: 'private key (PEM)',
  configuredKeyVariable: null,
  sharedSecret: null,
  events: [EVENT],
  exampleEvent: EVENT,
  statuses: MIDASBUY_STATUSES,
  webhookPath: '/webhooks/midasbuy/payment_notification',
  orderPath: (reference) => `/v1/midasbuy/orders/${encodeURIComponent(reference)}`,
  // In the style of the docs' SG2024113000900: region, date, serial.
  newReference: (now) => `SG${now.toISOString().slice(0, 10).replaceAll('-', '')}${String(randomInt(100_000)).padStart(5, '0')}`,
  build ({ event, reference, status, now }) {
    if (event !== EVENT) throw new SampleWebhookError(`MidasBuy sends ${EVENT} for order status changes; pick the status with --status (got "${event}")`)
    const chosen = status ?? DEFAULT_STATUS
    if (!isMidasBuyStatus(chosen)) throw new SampleWebhookError(`--status must be one of ${MIDASBUY_STATUSES.join(', ')} for MidasBuy (got "${chosen}")`)
    const updated = formatMidasBuyTime(now)
    const example = MIDASBUY_DOCS_NOTIFICATION
    return Buffer.from(JSON.stringify({
      ...example,
      id: `WH-${randomUUID()}`,
      create_time: updated,
      update_time: updated,
      summary: `Payment order ${reference} is ${chosen}`,
      resource: {
        ...example.resource,
        create_time: formatMidasBuyTime(new Date(now.getTime() - ORDER_AGE_MS)),
        update_time: updated,
        payment_order_id: reference,
        order_status: chosen
      }
    }))
  },
  sign: signAt,
  resend
}
