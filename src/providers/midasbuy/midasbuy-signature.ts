import { sign, verify, type KeyLike, type KeyObject } from 'node:crypto'

// MidasBuy signs `${Txgw-Timestamp}\n${Txgw-Nonce}\n${raw body}\n` (upstream/midasbuy.md §4.5).
// The docs cut off before the header, algorithm and key; RSA-SHA256 with a Base64 signature in a
// configurable header is what MidasPay documents for the same Txgw-* family (SPEC §2.1).

export const TIMESTAMP_HEADER = 'txgw-timestamp'
export const NONCE_HEADER = 'txgw-nonce'

/** Base64 (standard alphabet, padded or not); an RSA-2048 signature is 344 characters. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const MAX_SIGNATURE_CHARACTERS = 2048

export type MidasBuySignatureCheck =
  | { valid: true, timestamp: string }
  | { valid: false, reason: 'missing' | 'malformed' | 'mismatch', header: string }

/** The exact bytes MidasBuy signs: three lines, each ending in `\n`, the body untouched. */
export function midasbuySigningInput (timestamp: string, nonce: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'), body, Buffer.from('\n')])
}

/** The Base64 signature MidasBuy sends for a delivery (tests and the simulator sign with it). */
export function signMidasBuyNotification (privateKey: KeyLike, timestamp: string, nonce: string, body: Buffer | string): string {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
  return sign('sha256', midasbuySigningInput(timestamp, nonce, bytes), privateKey).toString('base64')
}

/** A header's one value; null when it is absent or empty, an array when it was repeated. */
function headerValue (headers: Record<string, string | string[] | undefined>, name: string): string | string[] | null {
  const value = headers[name]
  return value === undefined || value === '' ? null : value
}

/**
 * Builds a verifier for the platform key. An RSA verification compares nothing secret — the key
 * is public — so unlike an HMAC check it needs no constant-time comparison of its own.
 */
export function createMidasBuySignatureVerifier (publicKey: KeyObject, signatureHeader: string) {
  return function check (body: Buffer, headers: Record<string, string | string[] | undefined>): MidasBuySignatureCheck {
    const found: string[] = []
    for (const name of [signatureHeader, TIMESTAMP_HEADER, NONCE_HEADER]) {
      const value = headerValue(headers, name)
      if (value === null) return { valid: false, reason: 'missing', header: name }
      // A repeated header is ambiguous about which value was meant: refuse rather than pick one.
      if (Array.isArray(value)) return { valid: false, reason: 'malformed', header: name }
      found.push(value)
    }
    const [signature = '', timestamp = '', nonce = ''] = found
    if (signature.length > MAX_SIGNATURE_CHARACTERS || !BASE64.test(signature)) {
      return { valid: false, reason: 'malformed', header: signatureHeader }
    }
    const matches = verify('sha256', midasbuySigningInput(timestamp, nonce, body), publicKey, Buffer.from(signature, 'base64'))
    return matches ? { valid: true, timestamp } : { valid: false, reason: 'mismatch', header: signatureHeader }
  }
}

export type MidasBuySignatureVerifier = ReturnType<typeof createMidasBuySignatureVerifier>
