import { describe, expect, it } from 'vitest'
import type { CredentialSources, LocalCredentials } from '../../src/local-dev/local-credentials.js'
import { FIRST_ORDER_REFERENCE, formatStartBanner, localUrl } from '../../src/local-dev/start-banner.js'

const credentials: LocalCredentials = {
  api_key: 'om_local_key0123456789abcdefghijklmnopq',
  gameso_webhook_secret: 'gameso_local_secret0123456789abcdefghij',
  midasbuy_platform_public_key: '-----BEGIN PUBLIC KEY-----\npublic\n-----END PUBLIC KEY-----\n',
  midasbuy_platform_private_key: '-----BEGIN PRIVATE KEY-----\nprivate\n-----END PRIVATE KEY-----\n',
  created_at: '2026-12-01T10:00:00.000Z'
}
const allLocal: CredentialSources = { apiKey: 'local', gamesoWebhookSecret: 'local', midasbuyPlatformKey: 'local' }

function banner (sources: CredentialSources = allLocal, url = 'http://localhost:3000') {
  return formatStartBanner({ url, credentialsFile: '/srv/app/.data/credentials.json', credentials, sources, cwd: '/srv/app' })
}

describe('start banner', () => {
  it('shows where the mirror is, the local credentials, and says plainly they are for local development', () => {
    const text = banner()
    expect(text).toContain('order-mirror is ready at http://localhost:3000')
    expect(text).toContain('Local development credentials for this machine only, kept in .data/credentials.json')
    expect(text).toContain('Never use these in production')
    expect(text).toMatch(/X-API-Key +om_local_key0123456789abcdefghijklmnopq/)
    expect(text).toMatch(/GameSO webhook secret +gameso_local_secret0123456789abcdefghij/)
    expect(text).toMatch(/MidasBuy platform key +RSA key pair in \.data\/credentials\.json/)
    // The private key is for the send CLI alone; the banner never prints key material.
    expect(text).not.toContain('private')
    expect(text.split('\n').length).toBeLessThanOrEqual(20)
  })

  it('ends with copy-paste lines that work in order: health, a signed webhook, the order it made, the docs', () => {
    const commands = banner().split('\n').filter((line) => line.startsWith('  curl') || line.startsWith('  npm'))
    expect(commands).toEqual([
      '  curl -s http://localhost:3000/health/ready',
      `  npm run send -- gameso order.completed --ref ${FIRST_ORDER_REFERENCE}`,
      `  curl -s -H 'X-API-Key: ${credentials.api_key}' http://localhost:3000/v1/orders/${FIRST_ORDER_REFERENCE}`,
      '  curl -s http://localhost:3000/docs/json    # or open http://localhost:3000/docs in a browser'
    ])
  })

  it('says "configured" for every credential the environment sets, and prints none of the unused local ones', () => {
    const text = banner({ apiKey: 'configured', gamesoWebhookSecret: 'configured', midasbuyPlatformKey: 'configured' })
    expect(text).toMatch(/X-API-Key +configured \(API_KEYS\)/)
    expect(text).toMatch(/GameSO webhook secret +configured \(GAMESO_WEBHOOK_SECRETS\)/)
    expect(text).toMatch(/MidasBuy platform key +configured \(MIDASBUY_PLATFORM_PUBLIC_KEY\)/)
    expect(text).not.toContain(credentials.api_key)
    expect(text).not.toContain(credentials.gameso_webhook_secret)
    expect(text).toContain("curl -s -H 'X-API-Key: <a key from API_KEYS>' http://localhost:3000/v1/orders/")
  })

  it('shows a credentials file outside the working directory by its absolute path', () => {
    const text = formatStartBanner({ url: 'http://localhost:3000', credentialsFile: '/var/lib/om/credentials.json', credentials, sources: allLocal, cwd: '/srv/app' })
    expect(text).toContain('kept in /var/lib/om/credentials.json:')
  })

  it.each([
    ['0.0.0.0', 3000, 'http://localhost:3000'],
    ['::', 8080, 'http://localhost:8080'],
    ['127.0.0.1', 3001, 'http://127.0.0.1:3001'],
    ['::1', 3002, 'http://[::1]:3002'],
    ['mirror.internal', 80, 'http://mirror.internal:80']
  ])('reaches a mirror listening on %s port %d at %s', (host, port, url) => {
    expect(localUrl(host, port)).toBe(url)
  })
})
