import { createPublicKey, createSign, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'
import { createMidasBuySignatureVerifier, midasbuySigningInput, signMidasBuyNotification } from '../../src/providers/midasbuy/midasbuy-signature.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'

const body = Buffer.from('{"id":"wh-1","resource":{}}')
const verify = createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'txgw-signature')

function headers (overrides: Record<string, string | string[] | undefined> = {}) {
  return {
    'txgw-timestamp': '1777593600',
    'txgw-nonce': 'nonce-1',
    'txgw-signature': signMidasBuyNotification(midasbuyKeys.privateKey, '1777593600', 'nonce-1', body),
    ...overrides
  }
}

describe('MidasBuy notification signature', () => {
  it('signs exactly the three lines timestamp, nonce and body, each ending in a newline', () => {
    expect(midasbuySigningInput('1777593600', 'n', body).toString('utf8')).toBe(`1777593600\nn\n${body.toString('utf8')}\n`)
    expect(midasbuySigningInput('1', 'n', Buffer.alloc(0)).toString('utf8')).toBe('1\nn\n\n')
    const independent = createSign('sha256').update(`1777593600\nnonce-1\n${body.toString('utf8')}\n`).sign(midasbuyKeys.privateKey, 'base64')
    expect(verify(body, headers({ 'txgw-signature': independent }))).toEqual({ valid: true, timestamp: '1777593600' })
  })

  it('reads the signature from the configured header only', () => {
    const custom = createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'x-midas-sig')
    const { 'txgw-signature': signature, ...rest } = headers()
    expect(custom(body, { ...rest, 'x-midas-sig': signature })).toMatchObject({ valid: true })
    expect(custom(body, headers())).toEqual({ valid: false, reason: 'missing', header: 'x-midas-sig' })
  })

  it.each<[string, Record<string, string | string[] | undefined>, 'missing' | 'malformed' | 'mismatch', string]>([
    ['signature absent', { 'txgw-signature': undefined }, 'missing', 'txgw-signature'],
    ['signature empty', { 'txgw-signature': '' }, 'missing', 'txgw-signature'],
    ['timestamp absent', { 'txgw-timestamp': undefined }, 'missing', 'txgw-timestamp'],
    ['nonce absent', { 'txgw-nonce': undefined }, 'missing', 'txgw-nonce'],
    ['signature repeated', { 'txgw-signature': ['a', 'b'] }, 'malformed', 'txgw-signature'],
    ['nonce repeated', { 'txgw-nonce': ['a', 'b'] }, 'malformed', 'txgw-nonce'],
    ['signature not base64', { 'txgw-signature': 'not base64!' }, 'malformed', 'txgw-signature'],
    ['signature too long', { 'txgw-signature': 'A'.repeat(4096) }, 'malformed', 'txgw-signature'],
    ['signature of other headers', { 'txgw-nonce': 'nonce-2' }, 'mismatch', 'txgw-signature'],
    ['timestamp changed', { 'txgw-timestamp': '1777593601' }, 'mismatch', 'txgw-signature']
  ])('refuses a delivery with the %s', (_name, overrides, reason, header) => {
    expect(verify(body, headers(overrides))).toEqual({ valid: false, reason, header })
  })

  it('refuses a tampered body and a signature made with another key', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('wh-1', 'wh-2'))
    expect(verify(tampered, headers())).toMatchObject({ valid: false, reason: 'mismatch' })
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    expect(verify(body, headers({ 'txgw-signature': signMidasBuyNotification(other, '1777593600', 'nonce-1', body) })))
      .toMatchObject({ valid: false, reason: 'mismatch' })
  })
})

describe('MIDASBUY_PLATFORM_PUBLIC_KEY', () => {
  it('accepts a PEM public key, also on one line with literal \\n escapes', () => {
    expect(parseConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey }).midasbuy.platformPublicKey).toBe(midasbuyKeys.publicKey.trim())
    const oneLine = midasbuyKeys.publicKey.trim().replaceAll('\n', '\\n')
    expect(parseConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: oneLine }).midasbuy.platformPublicKey).toBe(midasbuyKeys.publicKey.trim())
  })

  it.each([
    ['not a PEM', 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
    ['an EC key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()]
  ])('refuses %s at start, naming the variable and not printing the key', (_name, value) => {
    let problems: readonly string[] = []
    try {
      parseConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: value })
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems
    }
    expect(problems).toEqual([expect.stringMatching(/^MIDASBUY_PLATFORM_PUBLIC_KEY: expected an RSA public key .*\(hidden\)\)$/)])
    expect(problems.join('')).not.toContain(value.trim().slice(-30))
  })
})
