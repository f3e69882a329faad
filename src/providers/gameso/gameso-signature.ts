import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'

// GameSO signs the raw body with HMAC-SHA256 (SPEC §2.1; the public docs cut off before the
// header section, so the accepted encodings are deliberately broad): lowercase or uppercase hex,
// or base64 (standard or URL-safe alphabet, padded or not), optionally prefixed `sha256=`.

const DIGEST_BYTES = 32
const HEX_DIGEST = /^[0-9a-f]{64}$/i
const BASE64_DIGEST = /^[A-Za-z0-9+/_-]{43}=?$/
const PREFIX = /^sha256=/i

export type SignatureCheck =
  | { valid: true }
  | { valid: false, reason: 'missing' | 'malformed' | 'mismatch' }

/** The 32 digest bytes a header value carries, or null when it is not a SHA-256 digest in any accepted encoding. */
export function decodeSignature (headerValue: string): Buffer | null {
  const value = headerValue.trim().replace(PREFIX, '')
  if (HEX_DIGEST.test(value)) return Buffer.from(value, 'hex')
  if (BASE64_DIGEST.test(value)) {
    // Node's base64 decoder accepts both alphabets; the length check rules out odd leftovers.
    const decoded = Buffer.from(value, 'base64')
    return decoded.length === DIGEST_BYTES ? decoded : null
  }
  return null
}

/** The signature GameSO sends for a body: lowercase hex, no prefix (the documented default). */
export function signGameSoBody (body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/**
 * Builds a verifier over every configured secret (rotation: any match accepts). Each secret is
 * compared in constant time and every secret is tried even after a match, so the time taken says
 * nothing about which secret matched or how close a forgery came.
 */
export function createGameSoSignatureVerifier (secrets: readonly string[]) {
  const keys: KeyObject[] = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')))
  return function verify (body: Buffer, headerValue: string | string[] | undefined): SignatureCheck {
    if (headerValue === undefined || headerValue === '') return { valid: false, reason: 'missing' }
    // A repeated header is ambiguous about which value was meant: refuse rather than pick one.
    if (Array.isArray(headerValue)) return { valid: false, reason: 'malformed' }
    const provided = decodeSignature(headerValue)
    if (provided === null) return { valid: false, reason: 'malformed' }
    let matched = false
    for (const key of keys) {
      const expected = createHmac('sha256', key).update(body).digest()
      if (timingSafeEqual(expected, provided)) matched = true
    }
    return matched ? { valid: true } : { valid: false, reason: 'mismatch' }
  }
}

export type GameSoSignatureVerifier = ReturnType<typeof createGameSoSignatureVerifier>
