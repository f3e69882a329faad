import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

// The two signatures every merchant webhook carries (SPEC §2.4), so a receiver written for either
// scheme checks it unchanged: GameSO's (HMAC-SHA256 of the raw body, lowercase hex, `sha256=`) and
// Standard Webhooks' (`v1,` + Base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"). Both are keyed
// with the secret's UTF-8 bytes: standardwebhooks' `format: "raw"` would take a string's UTF-16
// code units one per byte, so it gets the bytes instead; a receiver using that package's default
// form passes `whsec_` + Base64 of the same bytes.

export interface SignatureInput {
  secret: string
  /** Standard Webhooks `webhook-id`: the same on every attempt of one event. */
  webhookId: string
  /** The attempt's time: `webhook-timestamp`, and the envelope's `timestamp`. */
  at: Date
  body: string
  /** The header of the GameSO-scheme signature (GAMESO_SIGNATURE_HEADER, see merchantWebhookSignatureHeader). */
  signatureHeader: string
}

export function signedDeliveryHeaders (input: SignatureInput): Record<string, string> {
  const key = Buffer.from(input.secret, 'utf8')
  return {
    'content-type': 'application/json',
    [input.signatureHeader]: `sha256=${createHmac('sha256', key).update(input.body, 'utf8').digest('hex')}`,
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(Math.floor(input.at.getTime() / 1000)),
    'webhook-signature': new Webhook(key, { format: 'raw' }).sign(input.webhookId, input.at, input.body)
  }
}
