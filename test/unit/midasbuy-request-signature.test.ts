import { createPublicKey, createSign, generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_REQUEST_SIGNING,
  formatAuthorization,
  parseAuthorization,
  requestSigningInput,
  signedUrl,
  signMidasBuyRequest,
  verifyMidasBuyRequest,
  type ReceivedRequest,
  type RequestSigningOptions
} from '../../src/providers/midasbuy/midasbuy-request-signature.js'

// MidasBuy's own SDK (github.com/MidasbuyDeveloper/midasbuy-erlang, core/test) publishes a test
// public key and one signed OrderQuery-shaped request. Its signature verifies only if every byte
// of the five-line string is what MidasBuy signs, and the header must come out as the SDK's.
const SDK_PUBLIC_KEY = createPublicKey([
  '-----BEGIN PUBLIC KEY-----',
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnVAorBBp1FN4RkcvoMJ8',
  'EPl4K3RSDrtnWFFJHkdB2ab0VDBtdinfUL75iI6hGHOdXCo0WtneuQXthSEJWWNq',
  '99Yp5ZVSMovMOXaEJ7me3sE34jBh1S6/XOvAC2/UeL8lToAlWTAvHUduZqlpBa76',
  'H5wNay03LXSThNU9xtM936n0Si5hwx7vFqS4KvGi4p7P+2p91cyOW4StH3+m4onn',
  'PgNxZItwEnbD7bD2DYUawhjj7OeDsU3Lxxmy3HUqcdwnmGv6KUOs07su3Gb6vjer',
  'w17f5lfvKbWfiAA/N2QFFQK4yvYAopyxQUluSH2vnt9f4rJCtX35exwp9edGds6P',
  'gwIDAQAB',
  '-----END PUBLIC KEY-----'
].join('\n'))
const SDK_SIGNATURE = 'HuDyh8qybAyG9cyDNtQ6emLwpsLbaIt6o5TNIdgEkGFhGRbIbSr/YteP8ESOoH8nMqMoDWWlSPu+apUebih/RHK3EpjF0L7TlcGR5LqRqLbaCwWrSWbRehgsUyU1eZkjSAFpFgKCQrTxopkKfODmj2MiERf2PcVXE1BNBUoJcD0t0dEhD3jlqpduDoj5Xw7Yoh355CrO6tLFeXfHrMWKFageOPZltppC6Km8T63/TE03QWTICt8T/+xik00djkCD/6iWxszal8kl0ewWJXa8DCmvS/ZZIDkUIf5VNeNU9LDE29SUc1X5CRtHBXhpf3qOl6GVhQv+rNQf5eOrX/E7NA=='
const SDK_AUTHORIZATION = `TXGW-SHA256-RSA2048 auth_id=test_app_id,auth_id_type=app_id,nonce_str=593BEC0C930BF1AFEB40B4A08C8FB242,timestamp=1554208460,signature=${SDK_SIGNATURE},serial_no=1`
const SDK_REQUEST = {
  method: 'POST',
  url: new URL('https://sandbox-api-payments.midasbuy.com/midasbuy/v1/orders'),
  body: Buffer.from('{"id":"SG241018Y1V0T44VLXXX1E"}')
}

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 })
const credentials = { appId: '1450015065', serialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', privateKey: merchant.privateKey }
const orderQuery = { method: 'POST', url: 'https://api-payments.midasbuy.com/v2/orders', body: '{"id":"SG2024113000900"}' }
const moment = { timestamp: 1777593600, nonce: 'C5AC7061FCCAB6BF3E254DCF98995B8C' }

function received (authorization: string | string[] | undefined, overrides: Partial<ReceivedRequest> = {}): ReceivedRequest {
  return { method: orderQuery.method, url: new URL(orderQuery.url), body: Buffer.from(orderQuery.body), authorization, ...overrides }
}

function signed (options: RequestSigningOptions = DEFAULT_REQUEST_SIGNING): string {
  return signMidasBuyRequest(orderQuery, credentials, options, moment).headers.authorization
}

describe('MidasBuy request signing: the SDK test vector', () => {
  it('builds the five-line string the SDK signs', () => {
    expect(requestSigningInput(SDK_REQUEST, '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', 'path').toString('utf8'))
      .toBe('POST\n/midasbuy/v1/orders\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"id":"SG241018Y1V0T44VLXXX1E"}\n')
  })

  it('verifies the SDK header verbatim against its public key, with the URL line as path only', () => {
    const result = verifyMidasBuyRequest({ ...SDK_REQUEST, authorization: SDK_AUTHORIZATION }, SDK_PUBLIC_KEY)
    expect(result).toEqual({
      valid: true,
      parameters: { authId: 'test_app_id', authIdType: 'app_id', nonce: '593BEC0C930BF1AFEB40B4A08C8FB242', timestamp: '1554208460', signature: SDK_SIGNATURE, serialNo: '1' }
    })
    const absolute = { ...DEFAULT_REQUEST_SIGNING, urlForm: 'absolute' as const }
    expect(verifyMidasBuyRequest({ ...SDK_REQUEST, authorization: SDK_AUTHORIZATION }, SDK_PUBLIC_KEY, absolute)).toMatchObject({ valid: false, reason: 'mismatch' })
  })

  it('formats the SDK header byte for byte from its parameters', () => {
    const parsed = parseAuthorization(SDK_AUTHORIZATION)
    expect(parsed.ok).toBe(true)
    if (parsed.ok) expect(formatAuthorization(parsed.parameters)).toBe(SDK_AUTHORIZATION)
  })
})

describe('MidasBuy request signing', () => {
  it('signs METHOD, URL, timestamp, nonce and body with SHA256withRSA, Base64, in the documented header', () => {
    const result = signMidasBuyRequest(orderQuery, credentials, DEFAULT_REQUEST_SIGNING, moment)
    const independent = createSign('sha256')
      .update(`POST\n/v2/orders\n1777593600\nC5AC7061FCCAB6BF3E254DCF98995B8C\n${orderQuery.body}\n`)
      .sign(merchant.privateKey, 'base64')
    expect(result.parameters.signature).toBe(independent)
    expect(result.headers).toEqual({
      authorization: `TXGW-SHA256-RSA2048 auth_id=1450015065,auth_id_type=app_id,nonce_str=C5AC7061FCCAB6BF3E254DCF98995B8C,timestamp=1777593600,signature=${independent},serial_no=${credentials.serialNo}`
    })
    expect(verifyMidasBuyRequest(received(result.headers.authorization), merchant.publicKey)).toMatchObject({ valid: true })
  })

  it('gives every request a fresh 32-character nonce and the current time unless told otherwise', () => {
    const first = signMidasBuyRequest(orderQuery, credentials)
    const second = signMidasBuyRequest(orderQuery, credentials)
    expect(first.parameters.nonce).toMatch(/^[0-9A-F]{32}$/)
    expect(second.parameters.nonce).not.toBe(first.parameters.nonce)
    expect(first.parameters.timestamp).toMatch(/^\d{10}$/)
  })

  it.each([
    ['path form keeps the query and drops host, port and fragment', 'https://h.example:8443/midasbuy/v2/orders?a=1&b=2#x', 'path', '/midasbuy/v2/orders?a=1&b=2'],
    ['absolute form keeps scheme, host, port and query', 'https://h.example:8443/v2/orders?a=1#x', 'absolute', 'https://h.example:8443/v2/orders?a=1'],
    ['absolute form drops the default port and lowercases the host', 'HTTPS://API.Example:443/v2/orders', 'absolute', 'https://api.example/v2/orders'],
    ['absolute form leaves credentials in the URL out', 'http://user:pw@127.0.0.1:9/v2/orders', 'absolute', 'http://127.0.0.1:9/v2/orders']
  ] as const)('%s', (_name, url, form, line) => {
    expect(signedUrl(url, form)).toBe(line)
  })

  it('signs an empty body as an empty last line and uppercases the method', () => {
    expect(requestSigningInput({ method: 'get', url: 'https://a.example/v1/certificates', body: '' }, '1', 'n', 'path').toString('utf8'))
      .toBe('GET\n/v1/certificates\n1\nn\n\n')
  })

  it('follows the configured header form: app id parameter name, type value, quoting, URL form', () => {
    const options: RequestSigningOptions = { urlForm: 'absolute', authIdParameter: 'merchant_id', authIdType: 'MERCHANT_ID', quoteValues: true }
    const header = signed(options)
    expect(header).toMatch(/^TXGW-SHA256-RSA2048 merchant_id="1450015065",auth_id_type="MERCHANT_ID",nonce_str="C5AC7061FCCAB6BF3E254DCF98995B8C",timestamp="1777593600",signature="[A-Za-z0-9+/=]+",serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"$/)
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, options)).toMatchObject({ valid: true })
    // A verifier expecting the other URL form or parameter name refuses the same request.
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, { ...options, urlForm: 'path' })).toMatchObject({ valid: false, reason: 'mismatch' })
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey)).toMatchObject({ valid: false, reason: 'malformed', problem: 'parameter auth_id is missing' })
    expect(signed({ ...DEFAULT_REQUEST_SIGNING, authIdType: null })).not.toContain('auth_id_type')
  })

  it('refuses to sign values that would make the header ambiguous', () => {
    expect(() => signMidasBuyRequest(orderQuery, { ...credentials, appId: 'a,b' })).toThrow(/auth_id must be visible ASCII/)
    expect(() => signMidasBuyRequest(orderQuery, { ...credentials, serialNo: '' })).toThrow(/serial_no/)
    expect(() => signMidasBuyRequest(orderQuery, credentials, DEFAULT_REQUEST_SIGNING, { nonce: 'has space' })).toThrow(/nonce_str/)
    expect(() => signMidasBuyRequest(orderQuery, credentials, DEFAULT_REQUEST_SIGNING, { timestamp: 1.5 })).toThrow(/timestamp must be Unix seconds/)
  })
})

describe('MidasBuy request verification', () => {
  const header = signed()

  it.each<[string, Partial<ReceivedRequest>]>([
    ['body', { body: Buffer.from('{"id":"SG2024113000901"}') }],
    ['method', { method: 'PUT' }],
    ['path', { url: new URL('https://api-payments.midasbuy.com/midasbuy/v2/orders') }],
    ['query', { url: new URL('https://api-payments.midasbuy.com/v2/orders?x=1') }]
  ])('refuses a request whose %s differs from what was signed', (_name, overrides) => {
    expect(verifyMidasBuyRequest(received(header, overrides), merchant.publicKey)).toEqual({ valid: false, reason: 'mismatch', problem: 'the signature does not match the request' })
  })

  it('refuses a signature by another key and a nonce or timestamp changed after signing', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    expect(verifyMidasBuyRequest(received(header), other.publicKey)).toMatchObject({ valid: false, reason: 'mismatch' })
    expect(verifyMidasBuyRequest(received(header.replace('nonce_str=C5', 'nonce_str=D5')), merchant.publicKey)).toMatchObject({ valid: false, reason: 'mismatch' })
    expect(verifyMidasBuyRequest(received(header.replace('timestamp=1777593600', 'timestamp=1777593601')), merchant.publicKey)).toMatchObject({ valid: false, reason: 'mismatch' })
  })

  it('checks app id, certificate serial and the timestamp window when asked to', () => {
    const at = { nowSeconds: 1777593600 + 300, toleranceSeconds: 300 }
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, DEFAULT_REQUEST_SIGNING, { appId: credentials.appId, serialNo: credentials.serialNo, ...at })).toMatchObject({ valid: true })
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, DEFAULT_REQUEST_SIGNING, { appId: 'other' })).toMatchObject({ valid: false, reason: 'app_id' })
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, DEFAULT_REQUEST_SIGNING, { serialNo: 'ABC' })).toMatchObject({ valid: false, reason: 'serial_no' })
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, DEFAULT_REQUEST_SIGNING, { ...at, nowSeconds: at.nowSeconds + 1 })).toMatchObject({ valid: false, reason: 'timestamp' })
    expect(verifyMidasBuyRequest(received(header), merchant.publicKey, DEFAULT_REQUEST_SIGNING, { nowSeconds: 0, toleranceSeconds: 0 })).toMatchObject({ valid: true })
  })

  it('accepts quoted values, spaces after commas, another parameter order, a lowercase scheme and unknown parameters', () => {
    const parsed = parseAuthorization(header)
    if (!parsed.ok) throw new Error(parsed.problem)
    const p = parsed.parameters
    const rewritten = `txgw-sha256-rsa2048 serial_no="${p.serialNo}", signature=${p.signature}, future_field=x, timestamp="${p.timestamp}", nonce_str=${p.nonce}, auth_id_type=app_id, auth_id="${p.authId}"`
    expect(verifyMidasBuyRequest(received(rewritten), merchant.publicKey)).toEqual({ valid: true, parameters: p })
  })

  const missing = header.replace(/,serial_no=[^,]+$/, '')
  it.each<[string, string | string[] | undefined, 'missing' | 'malformed', string]>([
    ['absent', undefined, 'missing', 'the Authorization header is missing'],
    ['empty', '', 'missing', 'the Authorization header is missing'],
    ['repeated', [header, header], 'malformed', 'the Authorization header is repeated'],
    ['another scheme', header.replace('TXGW-SHA256-RSA2048', 'Bearer'), 'malformed', 'expected the TXGW-SHA256-RSA2048 scheme'],
    ['scheme only', 'TXGW-SHA256-RSA2048', 'malformed', 'expected the TXGW-SHA256-RSA2048 scheme'],
    ['no parameters', 'TXGW-SHA256-RSA2048 ', 'malformed', 'parameters must be name=value pairs separated by commas'],
    ['a parameter without a value separator', `${header},junk`, 'malformed', 'parameters must be name=value pairs separated by commas'],
    ['a trailing comma', `${header},`, 'malformed', 'parameters must be name=value pairs separated by commas'],
    ['a repeated parameter', `${header},nonce_str=X`, 'malformed', 'parameter nonce_str is repeated'],
    ['an empty value', header.replace('serial_no=5157F09EFDC096DE15EBE81A47057A7232F1B8E1', 'serial_no='), 'malformed', 'parameter serial_no has an empty or malformed value'],
    ['an unterminated quote', header.replace('serial_no=', 'serial_no="'), 'malformed', 'parameter serial_no has an empty or malformed value'],
    ['a missing serial number', missing, 'malformed', 'parameter serial_no is missing'],
    ['a timestamp that is not Unix seconds', header.replace('timestamp=1777593600', 'timestamp=2026-05-01T00:00:00Z'), 'malformed', 'parameter timestamp must be Unix seconds'],
    ['a signature that is not Base64', header.replace(/signature=[^,]+/, 'signature=not*base64'), 'malformed', 'parameter signature must be Base64'],
    ['a signature far too long', header.replace(/signature=[^,]+/, `signature=${'A'.repeat(2100)}`), 'malformed', 'parameter signature must be Base64'],
    ['a header over 4 KiB', `${header},pad=${'x'.repeat(4096)}`, 'malformed', 'the Authorization header is too long']
  ])('refuses %s, saying what is wrong', (_name, authorization, reason, problem) => {
    expect(verifyMidasBuyRequest(received(authorization), merchant.publicKey)).toEqual({ valid: false, reason, problem })
  })

  it('never throws on arbitrary header text, and never echoes it back', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((tail) => `TXGW-SHA256-RSA2048 ${tail}`)), (text) => {
      const result = verifyMidasBuyRequest(received(text), merchant.publicKey)
      expect(result.valid).toBe(false)
      if (!result.valid && text.length > 24) expect(result.problem).not.toContain(text)
    }))
  })
})

describe('MidasBuy Authorization header', () => {
  const value = fc.stringMatching(/^[!#-+\--[\]-~]{1,40}$/)
  const parametersArbitrary = fc.record({
    authId: value,
    authIdType: fc.option(value, { nil: null }),
    nonce: value,
    timestamp: fc.integer({ min: 0, max: 999_999_999_999 }).map(String),
    signature: fc.base64String({ minLength: 4, maxLength: 400 }).filter((text) => text.length > 0),
    serialNo: value
  })

  it('parses back exactly what it formats, in either quoting', () => {
    fc.assert(fc.property(parametersArbitrary, fc.boolean(), (parameters, quoteValues) => {
      const options = { ...DEFAULT_REQUEST_SIGNING, quoteValues }
      expect(parseAuthorization(formatAuthorization(parameters, options), options)).toEqual({ ok: true, parameters })
    }))
  })
})
