import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createGameSoSignatureVerifier, decodeSignature, signGameSoBody } from '../../src/providers/gameso/gameso-signature.js'

const SECRET = 'whsec_current'
const OLD_SECRET = 'whsec_previous'
const body = Buffer.from('{"event":"order.completed","timestamp":1771834095,"data":{}}')
const digest = createHmac('sha256', SECRET).update(body).digest()

describe('GameSO webhook signature', () => {
  const verify = createGameSoSignatureVerifier([OLD_SECRET, SECRET])

  it('signs with lowercase hex HMAC-SHA256 over the exact bytes', () => {
    expect(signGameSoBody(body, SECRET)).toBe(digest.toString('hex'))
    expect(signGameSoBody(body, SECRET)).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each([
    ['lowercase hex', digest.toString('hex')],
    ['uppercase hex', digest.toString('hex').toUpperCase()],
    ['sha256= prefix', `sha256=${digest.toString('hex')}`],
    ['SHA256= prefix, uppercase hex', `SHA256=${digest.toString('hex').toUpperCase()}`],
    ['base64', digest.toString('base64')],
    ['base64 without padding', digest.toString('base64').replace(/=+$/, '')],
    ['base64url', digest.toString('base64url')],
    ['sha256= prefix and base64', `sha256=${digest.toString('base64')}`],
    ['surrounding spaces', `  ${digest.toString('hex')} `]
  ])('accepts %s', (_name, header) => {
    expect(verify(body, header)).toEqual({ valid: true })
  })

  it('accepts any configured secret (rotation)', () => {
    expect(verify(body, signGameSoBody(body, OLD_SECRET))).toEqual({ valid: true })
    expect(createGameSoSignatureVerifier([SECRET])(body, signGameSoBody(body, OLD_SECRET))).toEqual({ valid: false, reason: 'mismatch' })
  })

  it.each([
    ['absent', undefined, 'missing'],
    ['empty', '', 'missing'],
    ['repeated', [digest.toString('hex'), digest.toString('hex')], 'malformed'],
    ['too short', digest.toString('hex').slice(0, 62), 'malformed'],
    ['not hex nor base64', 'z'.repeat(64), 'malformed'],
    ['a SHA-1 length digest', 'a'.repeat(40), 'malformed'],
    ['another prefix', `sha1=${digest.toString('hex')}`, 'malformed']
  ] as const)('refuses a header that is %s', (_name, header, reason) => {
    expect(verify(body, header as string | string[] | undefined)).toEqual({ valid: false, reason })
  })

  it('refuses a signature of other bytes, even one byte off', () => {
    const tampered = Buffer.from(body)
    tampered[tampered.length - 2] = 0x20
    expect(verify(tampered, digest.toString('hex'))).toEqual({ valid: false, reason: 'mismatch' })
    expect(verify(body, signGameSoBody(body, 'some-other-secret'))).toEqual({ valid: false, reason: 'mismatch' })
  })

  it('decodes every accepted form to the same 32 bytes', () => {
    for (const form of [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url'), `sha256=${digest.toString('hex').toUpperCase()}`]) {
      expect(decodeSignature(form)?.equals(digest)).toBe(true)
    }
  })
})
