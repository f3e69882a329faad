import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseConfig, type Config } from '../../src/config.js'
import type { LocalCredentials } from '../../src/local-dev/local-credentials.js'
import { GAMESO_DOCS_COMPLETED_WEBHOOK, GAMESO_DOCS_FAILED_WEBHOOK } from '../../src/providers/gameso/gameso-doc-examples.js'
import { gamesoSampleWebhook } from '../../src/providers/gameso/gameso-sample-webhook.js'
import { GAMESO_STATUSES, gamesoOrderSchema, gamesoWebhookEnvelopeSchema } from '../../src/providers/gameso/gameso-schemas.js'
import { createGameSoSignatureVerifier } from '../../src/providers/gameso/gameso-signature.js'
import { MIDASBUY_DOCS_NOTIFICATION } from '../../src/providers/midasbuy/midasbuy-doc-examples.js'
import { midasbuySampleNotification } from '../../src/providers/midasbuy/midasbuy-sample-notification.js'
import { isPaymentOrderResource, MIDASBUY_STATUSES, midasbuyOrderSchema, midasbuyWebhookEnvelopeSchema } from '../../src/providers/midasbuy/midasbuy-schemas.js'
import { createMidasBuySignatureVerifier } from '../../src/providers/midasbuy/midasbuy-signature.js'
import { SampleWebhookError, type SigningContext } from '../../src/providers/sample-webhook.js'
import { midasbuyKeys } from '../helpers/midasbuy-notifications.js'

const NOW = new Date('2026-12-01T10:00:00.250Z')
const SECRET = 'gameso_local_unit-test-secret-0123456789'

const local: LocalCredentials = {
  api_key: 'om_local_unit-test-key-0123456789',
  gameso_webhook_secret: SECRET,
  midasbuy_platform_public_key: midasbuyKeys.publicKey,
  midasbuy_platform_private_key: midasbuyKeys.privateKey,
  created_at: '2026-12-01T09:00:00.000Z'
}

/** The mirror's configuration as `npm start` runs it on the embedded database: the local credentials in force. */
function localConfig (env: Record<string, string> = {}): Config {
  return parseConfig({ GAMESO_WEBHOOK_SECRETS: SECRET, MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey, ...env })
}

function context (overrides: Partial<SigningContext> = {}): SigningContext {
  return { config: localConfig(), local, keyFile: null, now: NOW, ...overrides }
}

function json (body: Buffer): Record<string, unknown> {
  return JSON.parse(body.toString('utf8')) as Record<string, unknown>
}

describe('GameSO docs examples in src', () => {
  it.each([
    ['webhook-order-completed.json', GAMESO_DOCS_COMPLETED_WEBHOOK],
    ['webhook-order-failed.json', GAMESO_DOCS_FAILED_WEBHOOK]
  ])('are the docs payloads of test/fixtures/gameso/%s, key for key in the same order', (file, example) => {
    const fixture: unknown = JSON.parse(readFileSync(new URL(`../fixtures/gameso/${file}`, import.meta.url), 'utf8'))
    expect(JSON.stringify(example)).toBe(JSON.stringify(fixture))
  })
})

describe('GameSO sample webhook', () => {
  it.each(GAMESO_STATUSES)('builds order.%s as the mirror accepts it, from the docs example', (status) => {
    const body = gamesoSampleWebhook.build({ event: `order.${status}`, reference: 'ref_SAMPLE', status: undefined, now: NOW })
    const envelope = gamesoWebhookEnvelopeSchema.parse(json(body))
    expect(envelope).toMatchObject({ event: `order.${status}`, timestamp: Math.floor(NOW.getTime() / 1000) })
    const order = gamesoOrderSchema.parse(envelope.data)
    expect(order).toMatchObject({ reference_id: 'ref_SAMPLE', status, user_id: 'Fiona.DAmore-Bauch', updated_at: NOW.toISOString(), created_at: '2026-12-01T09:59:29.250Z' })
    expect(order.order_number).toMatch(/^ord_[A-Za-z0-9]{16}$/)
    expect('completed_at' in order).toBe(status === 'completed')
    expect(order.items).toEqual([expect.objectContaining({
      sku: 'ROMC-Z-1800K',
      quantity: 1,
      completed_quantity: status === 'completed' ? 1 : 0,
      failed_quantity: status === 'failed' ? 1 : 0,
      status,
      failure_code: status === 'failed' ? 'ITEM_NOT_FOUND' : null
    })])
    expect(order.failure_code).toBe(status === 'failed' ? 'ITEM_NOT_FOUND' : null)
    // The keys of GameSO's own example, in its order.
    expect(Object.keys(json(body).data as object)).toEqual(Object.keys(GAMESO_DOCS_COMPLETED_WEBHOOK.data).filter((key) => key !== 'completed_at' || status === 'completed'))
  })

  it('names one order the same order_number on every send, and different orders differently', () => {
    const numberOf = (reference: string, status: string) =>
      (json(gamesoSampleWebhook.build({ event: `order.${status}`, reference, status: undefined, now: NOW })).data as { order_number: string }).order_number
    expect(numberOf('ref-a', 'processing')).toBe(numberOf('ref-a', 'completed'))
    expect(numberOf('ref-a', 'completed')).not.toBe(numberOf('ref-b', 'completed'))
  })

  it('takes --status over the event name, and refuses what is not a GameSO status or event', () => {
    const body = gamesoSampleWebhook.build({ event: 'order.updated', reference: 'r', status: 'failed', now: NOW })
    expect(json(body)).toMatchObject({ event: 'order.updated', data: { status: 'failed' } })
    expect(() => gamesoSampleWebhook.build({ event: 'order.refunded', reference: 'r', status: undefined, now: NOW }))
      .toThrow(new SampleWebhookError('"refunded" is not a GameSO status: name one with --status (pending, processing, completed, failed)'))
    expect(() => gamesoSampleWebhook.build({ event: 'order.completed', reference: 'r', status: 'Paid', now: NOW }))
      .toThrow(/--status must be one of pending, processing, completed, failed for GameSO \(got "Paid"\)/)
    expect(() => gamesoSampleWebhook.build({ event: 'ping', reference: 'r', status: undefined, now: NOW }))
      .toThrow(/GameSO events are order.<status>: order.pending, order.processing, order.completed, order.failed \(got "ping"\)/)
  })

  it('carries any reference the mirror stores, and its signature verifies with the secret in force', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 255, unit: 'binary' }), fc.constantFrom(...GAMESO_STATUSES), (reference, status) => {
      const body = gamesoSampleWebhook.build({ event: `order.${status}`, reference, status: undefined, now: NOW })
      expect(gamesoOrderSchema.parse(gamesoWebhookEnvelopeSchema.parse(json(body)).data).reference_id).toBe(reference)
      const { headers } = gamesoSampleWebhook.sign(body, context())
      expect(createGameSoSignatureVerifier([SECRET])(body, headers['x-gameso-signature'])).toEqual({ valid: true })
    }))
  })

  it('signs in the configured header, with the first configured secret, or with --key-file over both', () => {
    const body = gamesoSampleWebhook.build({ event: 'order.completed', reference: 'r', status: undefined, now: NOW })
    const configured = gamesoSampleWebhook.sign(body, context({ config: localConfig({ GAMESO_WEBHOOK_SECRETS: 'first,second', GAMESO_SIGNATURE_HEADER: 'X-Sig' }) }))
    expect(configured.headers['content-type']).toBe('application/json')
    expect(createGameSoSignatureVerifier(['first'])(body, configured.headers['x-sig'])).toEqual({ valid: true })
    expect(configured.signing).toBe('HMAC-SHA256 of the body (hex) in x-sig, with the first of GAMESO_WEBHOOK_SECRETS')
    expect(gamesoSampleWebhook.sign(body, context()).signing).toContain('with the local webhook secret')

    const fromFile = gamesoSampleWebhook.sign(body, context({ keyFile: 'file-secret\n' }))
    expect(createGameSoSignatureVerifier(['file-secret'])(body, fromFile.headers['x-gameso-signature'])).toEqual({ valid: true })
    expect(fromFile.signing).toContain('with --key-file')
  })

  it('says how to get a secret when there is none', () => {
    const body = gamesoSampleWebhook.build({ event: 'order.completed', reference: 'r', status: undefined, now: NOW })
    expect(() => gamesoSampleWebhook.sign(body, context({ config: parseConfig({}), local: null })))
      .toThrow(/no GameSO webhook secret to sign with: set GAMESO_WEBHOOK_SECRETS.*--key-file/)
  })

  describe('resending a stored delivery', () => {
    const body = gamesoSampleWebhook.build({ event: 'order.completed', reference: 'r', status: undefined, now: NOW })
    const arrived = gamesoSampleWebhook.sign(body, context())

    it('keeps the signature it arrived with while a configured secret still verifies it', () => {
      const again = gamesoSampleWebhook.resend({ body, headers: arrived.headers }, context({ config: localConfig({ GAMESO_WEBHOOK_SECRETS: `new,${SECRET}` }) }))
      expect(again.headers).toEqual(arrived.headers)
      expect(again.signing).toBe('not re-signed: the x-gameso-signature it arrived with still verifies')
    })

    it('re-signs with the secret in force when the stored one no longer verifies or is missing', () => {
      const rotated = context({ config: localConfig({ GAMESO_WEBHOOK_SECRETS: 'rotated-secret' }) })
      const again = gamesoSampleWebhook.resend({ body, headers: arrived.headers }, rotated)
      expect(createGameSoSignatureVerifier(['rotated-secret'])(body, again.headers['x-gameso-signature'])).toEqual({ valid: true })
      expect(again.signing).toMatch(/^re-signed \(the signature it arrived with matches no configured secret\): HMAC-SHA256/)
      const unsigned = gamesoSampleWebhook.resend({ body, headers: { 'content-type': 'application/json' } }, rotated)
      expect(unsigned.signing).toMatch(/^re-signed \(the stored row has no x-gameso-signature\)/)
    })

    it('warns that a body older than the tolerance will be refused, since its timestamp is signed with it', () => {
      const later = gamesoSampleWebhook.resend({ body, headers: arrived.headers }, context({ now: new Date(NOW.getTime() + 3601_000) }))
      expect(later.signing).toContain('its timestamp is 3601 s old, beyond WEBHOOK_TOLERANCE_SECONDS (3600)')
      const noCheck = gamesoSampleWebhook.resend({ body, headers: arrived.headers }, context({ config: localConfig({ WEBHOOK_TOLERANCE_SECONDS: '0' }), now: new Date(NOW.getTime() + 86_400_000) }))
      expect(noCheck.signing).not.toContain('old')
    })
  })
})

describe('MidasBuy sample payment notification', () => {
  it.each(MIDASBUY_STATUSES)('builds a %s notification as the mirror accepts it, in the documented envelope', (status) => {
    const body = midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG2026120100001', status, now: NOW })
    const envelope = midasbuyWebhookEnvelopeSchema.parse(json(body))
    expect(Object.keys(envelope)).toEqual(Object.keys(MIDASBUY_DOCS_NOTIFICATION))
    expect(isPaymentOrderResource(envelope.resource)).toBe(true)
    const order = midasbuyOrderSchema.parse(envelope.resource)
    expect(order).toMatchObject({ payment_order_id: 'SG2026120100001', order_status: status, update_time: '2026-12-01T10:00:00.250Z', app_id: '1450015065' })
    expect(envelope.id).toMatch(/^WH-[0-9a-f-]{36}$/)
  })

  it('sends Paid unless told otherwise, and refuses other events and statuses', () => {
    const body = midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG1', status: undefined, now: NOW })
    expect((json(body).resource as { order_status: string }).order_status).toBe('Paid')
    expect(() => midasbuySampleNotification.build({ event: 'order.completed', reference: 'SG1', status: undefined, now: NOW })).toThrow(/MidasBuy sends payment_notification/)
    expect(() => midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG1', status: 'completed', now: NOW }))
      .toThrow(/--status must be one of Created, Paid, Finished, Refunded for MidasBuy \(got "completed"\)/)
  })

  it('signs Txgw-Timestamp, Txgw-Nonce and the body with the local private key, verified by the local public key', () => {
    const body = midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG1', status: 'Paid', now: NOW })
    const { headers, signing } = midasbuySampleNotification.sign(body, context())
    expect(headers['txgw-timestamp']).toBe(String(Math.floor(NOW.getTime() / 1000)))
    expect(headers['txgw-nonce']).toMatch(/^[0-9a-f]{32}$/)
    expect(createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'txgw-signature')(body, headers)).toMatchObject({ valid: true })
    expect(signing).toContain('with the local platform private key')
  })

  it('needs --key-file once a platform key other than the local one is configured, and signs with it', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
    const body = midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG1', status: 'Paid', now: NOW })
    const configured = context({ config: localConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: other.publicKey, MIDASBUY_SIGNATURE_HEADER: 'X-Midas-Sig' }) })
    expect(() => midasbuySampleNotification.sign(body, configured)).toThrow(/MIDASBUY_PLATFORM_PUBLIC_KEY is configured, so only its private half can sign: pass it with --key-file/)
    const { headers } = midasbuySampleNotification.sign(body, { ...configured, keyFile: other.privateKey })
    expect(createMidasBuySignatureVerifier(createPublicKey(other.publicKey), 'x-midas-sig')(body, headers)).toMatchObject({ valid: true })
    expect(() => midasbuySampleNotification.sign(body, { ...configured, keyFile: 'not a key' })).toThrow(/--key-file does not hold an RSA private key in PEM form/)
    expect(() => midasbuySampleNotification.sign(body, context({ config: parseConfig({}), local: null }))).toThrow(/no MidasBuy platform key/)
  })

  describe('resending a stored delivery', () => {
    const body = midasbuySampleNotification.build({ event: 'payment_notification', reference: 'SG1', status: 'Paid', now: NOW })
    const arrived = midasbuySampleNotification.sign(body, context())
    const verify = createMidasBuySignatureVerifier(createPublicKey(midasbuyKeys.publicKey), 'txgw-signature')

    it('keeps the headers it arrived with while they verify and its timestamp is within the tolerance', () => {
      const again = midasbuySampleNotification.resend({ body, headers: arrived.headers }, context({ now: new Date(NOW.getTime() + 3600_000) }))
      expect(again.headers).toEqual(arrived.headers)
      expect(again.signing).toBe('not re-signed: the txgw-timestamp, txgw-nonce and txgw-signature it arrived with still verify')
    })

    it('re-signs the same bytes with a fresh timestamp and nonce once the stored timestamp is too old', () => {
      const later = new Date(NOW.getTime() + 3601_000)
      const again = midasbuySampleNotification.resend({ body, headers: arrived.headers }, context({ now: later }))
      expect(again.headers['txgw-timestamp']).toBe(String(Math.floor(later.getTime() / 1000)))
      expect(again.headers['txgw-nonce']).not.toBe(arrived.headers['txgw-nonce'])
      expect(verify(body, again.headers)).toMatchObject({ valid: true })
      expect(again.signing).toMatch(/^re-signed with a fresh txgw-timestamp and txgw-nonce \(its txgw-timestamp is 3601 s old, beyond WEBHOOK_TOLERANCE_SECONDS \(3600\)\)/)
    })

    it('re-signs when the stored signature does not verify with the key in force', () => {
      const forged = { ...arrived.headers, 'txgw-signature': Buffer.alloc(256, 1).toString('base64') }
      const again = midasbuySampleNotification.resend({ body, headers: forged }, context())
      expect(verify(body, again.headers)).toMatchObject({ valid: true })
      expect(again.signing).toMatch(/^re-signed .*\(its txgw-signature does not verify \(mismatch\)\)/)
    })
  })
})
