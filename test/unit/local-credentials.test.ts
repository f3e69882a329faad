import { createPublicKey } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig, type Config } from '../../src/config.js'
import {
  applyLocalCredentials, loadOrCreateLocalCredentials, localCredentialsFile, LocalCredentialsError, readLocalCredentials, type LocalCredentials
} from '../../src/local-dev/local-credentials.js'
import { createMidasBuySignatureVerifier, signMidasBuyNotification } from '../../src/providers/midasbuy/midasbuy-signature.js'

let dir: string
let file: string

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'om-credentials-'))
  file = localCredentialsFile(path.join(dir, '.data', 'postgres'))
})
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('local development credentials', () => {
  it('live beside the embedded data directory: ./.data/credentials.json for the default ./.data/postgres', () => {
    expect(localCredentialsFile('./.data/postgres')).toBe(path.resolve('.data', 'credentials.json'))
    expect(file).toBe(path.join(dir, '.data', 'credentials.json'))
  })

  it('are made once, readable by the owner only, and read back unchanged on every later start', async () => {
    const first = await loadOrCreateLocalCredentials(file, new Date('2026-12-01T10:00:00Z'))
    expect(first.created).toBe(true)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(first.credentials.created_at).toBe('2026-12-01T10:00:00.000Z')
    expect(first.credentials.api_key).toMatch(/^om_local_[A-Za-z0-9_-]{32}$/)
    expect(first.credentials.gameso_webhook_secret).toMatch(/^gameso_local_[A-Za-z0-9_-]{32}$/)
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first.credentials)

    const again = await loadOrCreateLocalCredentials(file)
    expect(again).toEqual({ credentials: first.credentials, created: false })
  })

  it('differ from one data directory to the next', async () => {
    const other = localCredentialsFile(path.join(dir, 'elsewhere', 'postgres'))
    const [a, b] = await Promise.all([loadOrCreateLocalCredentials(file), loadOrCreateLocalCredentials(other)])
    expect(a.credentials.api_key).not.toBe(b.credentials.api_key)
    expect(a.credentials.gameso_webhook_secret).not.toBe(b.credentials.gameso_webhook_secret)
    expect(a.credentials.midasbuy_platform_public_key).not.toBe(b.credentials.midasbuy_platform_public_key)
  })

  it('come out the same for two processes starting at once: one writes, the other reads what it wrote', async () => {
    const results = await Promise.all([loadOrCreateLocalCredentials(file), loadOrCreateLocalCredentials(file)])
    expect(results.filter((result) => result.created)).toHaveLength(1)
    expect(results[0]?.credentials).toEqual(results[1]?.credentials)
    expect(await readLocalCredentials(file)).toEqual(results[0]?.credentials)
  })

  it('hold a MidasBuy key pair the mirror accepts as its platform key and that signs notifications it verifies', async () => {
    const { credentials } = await loadOrCreateLocalCredentials(file)
    const config = parseConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: credentials.midasbuy_platform_public_key })
    const verify = createMidasBuySignatureVerifier(createPublicKey(config.midasbuy.platformPublicKey ?? ''), 'txgw-signature')
    const body = Buffer.from('{"id":"wh-1","resource":{}}')
    const signature = signMidasBuyNotification(credentials.midasbuy_platform_private_key, '1796000000', 'nonce-1', body)
    expect(verify(body, { 'txgw-signature': signature, 'txgw-timestamp': '1796000000', 'txgw-nonce': 'nonce-1' })).toMatchObject({ valid: true })
  })

  it('tighten the file back to 0600 when it was loosened', async () => {
    await loadOrCreateLocalCredentials(file)
    await chmod(file, 0o644)
    await loadOrCreateLocalCredentials(file)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })

  it.each([
    ['not JSON', '{"api_key": ', /is not JSON/],
    ['missing fields', '{"api_key": "om_local_0123456789abcdef"}', /gameso_webhook_secret, midasbuy_platform_public_key, midasbuy_platform_private_key, created_at/],
    ['a key that is not PEM', JSON.stringify({
      api_key: 'om_local_0123456789abcdef',
      gameso_webhook_secret: 'gameso_local_0123456789abcdef',
      midasbuy_platform_public_key: 'not a key',
      midasbuy_platform_private_key: 'not a key either',
      created_at: '2026-12-01T10:00:00.000Z'
    }), /midasbuy_platform_public_key, midasbuy_platform_private_key/]
  ])('refuse a file with %s, naming the problem, and leave it as it is', async (_case, text, problem) => {
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, text, { mode: 0o600 })
    const error = await loadOrCreateLocalCredentials(file).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LocalCredentialsError)
    expect((error as Error).message).toMatch(problem)
    expect((error as Error).message).toContain(file)
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  describe('stand in only for the credential variables left unset, each on its own', () => {
    const variables = { API_KEYS: 'configured-key', GAMESO_WEBHOOK_SECRETS: 'configured-secret' } as const
    const combinations = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => ({
      api: (bits & 1) !== 0, secret: (bits & 2) !== 0, midasbuy: (bits & 4) !== 0
    }))
    let local: LocalCredentials
    /** A platform key configured in the environment, which must win over the local one. */
    let configuredPublicKey: string

    beforeAll(async () => {
      const keysDir = await mkdtemp(path.join(os.tmpdir(), 'om-credentials-'))
      try {
        local = (await loadOrCreateLocalCredentials(path.join(keysDir, 'local.json'))).credentials
        configuredPublicKey = (await loadOrCreateLocalCredentials(path.join(keysDir, 'other.json'))).credentials.midasbuy_platform_public_key
      } finally {
        await rm(keysDir, { recursive: true, force: true })
      }
    })

    it.each(combinations)('configured: API_KEYS $api, GAMESO_WEBHOOK_SECRETS $secret, MIDASBUY_PLATFORM_PUBLIC_KEY $midasbuy', (configured) => {
      const config = parseConfig({
        ...(configured.api ? { API_KEYS: variables.API_KEYS } : {}),
        ...(configured.secret ? { GAMESO_WEBHOOK_SECRETS: variables.GAMESO_WEBHOOK_SECRETS } : {}),
        ...(configured.midasbuy ? { MIDASBUY_PLATFORM_PUBLIC_KEY: configuredPublicKey } : {})
      })
      const applied = applyLocalCredentials(config, local)
      expect(applied.config.apiKeys).toEqual([configured.api ? variables.API_KEYS : local.api_key])
      expect(applied.config.gameso.webhookSecrets).toEqual([configured.secret ? variables.GAMESO_WEBHOOK_SECRETS : local.gameso_webhook_secret])
      expect(applied.config.midasbuy.platformPublicKey?.trim())
        .toBe((configured.midasbuy ? configuredPublicKey : local.midasbuy_platform_public_key).trim())
      expect(applied.sources).toEqual({
        apiKey: configured.api ? 'configured' : 'local',
        gamesoWebhookSecret: configured.secret ? 'configured' : 'local',
        midasbuyPlatformKey: configured.midasbuy ? 'configured' : 'local'
      })
      expect(Object.isFrozen(applied.config.gameso)).toBe(true)
      // Everything else is the configuration as parsed.
      const withoutCredentials = (value: Config) => ({
        ...value, apiKeys: [], gameso: { ...value.gameso, webhookSecrets: [] }, midasbuy: { ...value.midasbuy, platformPublicKey: undefined }
      })
      expect(withoutCredentials(applied.config)).toEqual(withoutCredentials(config))
    })
  })
})
