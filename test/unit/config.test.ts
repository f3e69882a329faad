import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CONFIG_VARIABLES, ConfigError, parseConfig, SECRET_CONFIG_VARIABLES } from '../../src/config.js'

const run = promisify(execFile)

function problemsOf (env: Record<string, string>): string[] {
  try {
    parseConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('applies the documented defaults with an empty environment', () => {
    const config = parseConfig({})
    expect(config.port).toBe(3000)
    expect(config.host).toBe('0.0.0.0')
    expect(config.databaseUrl).toBeUndefined()
    expect(config.apiKeys).toEqual([])
    expect(config.gameso.baseUrl).toBe('https://api.gameso.io')
    expect(config.gameso.signatureHeader).toBe('x-gameso-signature')
    expect(config.webhooks.toleranceSeconds).toBe(3600)
    expect(config.webhooks.bodyLimitBytes).toBe(262144)
    expect(config.reconcile).toMatchObject({
      enabled: true, intervalMs: 5000, staleAfterMs: 60000, maxBackoffMs: 900000, giveUpAfterMs: 86400000
    })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.gameso)).toBe(true)
  })

  it('splits comma lists, trims them and lower-cases header names', () => {
    const config = parseConfig({ API_KEYS: ' a , b,,c ', GAMESO_WEBHOOK_SECRETS: 's1,s2', GAMESO_SIGNATURE_HEADER: 'X-Sig' })
    expect(config.apiKeys).toEqual(['a', 'b', 'c'])
    expect(config.gameso.webhookSecrets).toEqual(['s1', 's2'])
    expect(config.gameso.signatureHeader).toBe('x-sig')
  })

  it('treats an empty value as unset', () => {
    expect(parseConfig({ PORT: '', RECONCILE_ENABLED: '' }).port).toBe(3000)
  })

  it('reports every problem at once, naming each variable and what it expects', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      RECONCILE_ENABLED: 'maybe',
      GAMESO_BASE_URL: 'ftp://example.com',
      LOG_LEVEL: 'loud',
      WEBHOOK_TOLERANCE_SECONDS: '-1'
    })
    expect(problems).toHaveLength(5)
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/whole number.*"eighty"/)
    expect(problems.find((p) => p.startsWith('RECONCILE_ENABLED:'))).toMatch(/true or false/)
    expect(problems.find((p) => p.startsWith('GAMESO_BASE_URL:'))).toMatch(/http\(s\) URL/)
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toMatch(/one of fatal, error/)
    expect(problems.find((p) => p.startsWith('WEBHOOK_TOLERANCE_SECONDS:'))).toBeDefined()
  })

  it('never prints a secret value, only its shape', () => {
    const secretUrl = 'mysql://admin:hunter2-very-secret@db.internal/orders'
    const problems = problemsOf({ DATABASE_URL: secretUrl })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^DATABASE_URL: expected a postgres/)
    expect(problems[0]).toContain(`a ${secretUrl.length}-character value (hidden)`)
    expect(problems.join('\n')).not.toContain('hunter2')
  })

  it('accepts an RSA public key for MidasBuy, also on one line with literal \\n, and refuses anything else without printing it', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
    })
    expect(parseConfig({ MIDASBUY_PLATFORM_PUBLIC_KEY: publicKey.replaceAll('\n', '\\n') }).midasbuy.platformPublicKey).toBe(publicKey)
    const notAKey = problemsOf({ MIDASBUY_PLATFORM_PUBLIC_KEY: 'not-a-key-material' })
    expect(notAKey[0]).toMatch(/^MIDASBUY_PLATFORM_PUBLIC_KEY: expected an RSA public key/)
    expect(notAKey.join('\n')).not.toContain('not-a-key-material')
    const secret = problemsOf({ MIDASBUY_PLATFORM_PUBLIC_KEY: privateKey })
    expect(secret[0]).toMatch(/^MIDASBUY_PLATFORM_PUBLIC_KEY: expected the platform PUBLIC key, got a private key/)
    expect(secret.join('\n')).not.toContain(privateKey.split('\n')[1])
  })

  describe('MidasBuy OrderQuery signing', () => {
    const pkcs1 = generateKeyPairSync('rsa', {
      modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }
    })
    const pkcs8 = generateKeyPairSync('rsa', {
      modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
    })
    const signing = { MIDASBUY_APP_ID: '1450015065', MIDASBUY_CERT_SERIAL_NO: 'SERIAL-1' }

    it('is off by default, with the documented defaults for what the docs leave open', () => {
      expect(parseConfig({}).midasbuy).toMatchObject({
        appId: undefined,
        merchantPrivateKey: undefined,
        certSerialNo: undefined,
        maxRequestsPerSecond: 10,
        maxConcurrency: 4,
        timeoutMs: 10_000,
        notFoundAnswers: [{ status: 404, name: 'NOT_FOUND' }],
        signing: { urlForm: 'path', authIdParameter: 'auth_id', authIdType: 'app_id', quoteValues: false }
      })
    })

    it.each([['PKCS#1', pkcs1.privateKey], ['PKCS#8', pkcs8.privateKey]])('accepts a %s private key, also on one line with literal \\n', (_form, privateKey) => {
      expect(parseConfig({ ...signing, MIDASBUY_MERCHANT_PRIVATE_KEY: privateKey.replaceAll('\n', '\\n') }).midasbuy.merchantPrivateKey).toBe(privateKey)
    })

    it.each([
      ['a public key', pkcs8.publicKey, /expected an unencrypted RSA private key in PEM form/],
      ['text that is not a key', 'not-a-key-material', /expected an unencrypted RSA private key in PEM form/],
      ['a damaged key', pkcs8.privateKey.replace(/\n[A-Za-z0-9+/]{10}/, '\n'), /expected an RSA private key that parses/]
    ])('refuses %s without printing it', (_what, value, problem) => {
      const problems = problemsOf({ ...signing, MIDASBUY_MERCHANT_PRIVATE_KEY: value })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^MIDASBUY_MERCHANT_PRIVATE_KEY: /)
      expect(problems[0]).toMatch(problem)
      expect(problems[0]).toMatch(/-character value \(hidden\)/)
      expect(problems.join('\n')).not.toContain(value.split('\n')[1] ?? value)
    })

    it('names the missing half of a signing setup, beside every other problem', () => {
      expect(problemsOf({ PORT: 'x', MIDASBUY_APP_ID: 'a' })).toEqual([
        'PORT: expected a whole number (got "x")',
        'MIDASBUY_MERCHANT_PRIVATE_KEY: required with MIDASBUY_APP_ID; the two turn on MidasBuy OrderQuery together (got unset)'
      ])
      expect(problemsOf({ MIDASBUY_MERCHANT_PRIVATE_KEY: pkcs8.privateKey })[0]).toMatch(/^MIDASBUY_APP_ID: required with MIDASBUY_MERCHANT_PRIVATE_KEY/)
      expect(problemsOf({ MIDASBUY_APP_ID: 'a', MIDASBUY_MERCHANT_PRIVATE_KEY: pkcs8.privateKey })[0]).toMatch(/^MIDASBUY_CERT_SERIAL_NO: required/)
    })

    it('reads the not-found answers and the signing options', () => {
      const config = parseConfig({
        MIDASBUY_NOT_FOUND_ERRORS: '404:NOT_FOUND, 400:ORDER_NOT_EXIST',
        MIDASBUY_SIGNATURE_URL_FORM: 'absolute',
        MIDASBUY_SIGNATURE_AUTH_ID_PARAMETER: 'mch_id',
        MIDASBUY_SIGNATURE_AUTH_ID_TYPE: 'none',
        MIDASBUY_SIGNATURE_QUOTE_VALUES: 'true'
      })
      expect(config.midasbuy.notFoundAnswers).toEqual([{ status: 404, name: 'NOT_FOUND' }, { status: 400, name: 'ORDER_NOT_EXIST' }])
      expect(config.midasbuy.signing).toEqual({ urlForm: 'absolute', authIdParameter: 'mch_id', authIdType: null, quoteValues: true })
    })

    it.each([
      ['MIDASBUY_NOT_FOUND_ERRORS', '404', /STATUS:NAME pairs/],
      ['MIDASBUY_NOT_FOUND_ERRORS', '999:X', /STATUS:NAME pairs/],
      ['MIDASBUY_SIGNATURE_URL_FORM', 'full', /"path"|path/],
      ['MIDASBUY_APP_ID', 'app,id', /without commas/],
      ['MIDASBUY_CERT_SERIAL_NO', 'serial "1"', /without commas, quotes/],
      ['MIDASBUY_MAX_REQUESTS_PER_SECOND', '0', /MIDASBUY_MAX_REQUESTS_PER_SECOND/]
    ])('refuses %s=%j', (name, value, problem) => {
      const problems = problemsOf({ [name]: value })
      expect(problems.find((found) => found.startsWith(`${name}:`))).toMatch(problem)
    })
  })

  it('documents every variable it reads in .env.example, and nothing else', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1])
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort())
  })

  it('hides the values of the credentials and connection strings', () => {
    expect([...SECRET_CONFIG_VARIABLES].sort()).toEqual(
      ['API_KEYS', 'DATABASE_URL', 'GAMESO_API_KEY', 'GAMESO_WEBHOOK_SECRETS', 'MIDASBUY_MERCHANT_PRIVATE_KEY', 'MIDASBUY_PLATFORM_PUBLIC_KEY', 'REDIS_URL'])
  })

  it('makes the service exit 1 with every problem on stderr', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, PORT: 'x', GAMESO_API_KEY: '', RECONCILE_INTERVAL_MS: '5', DATABASE_URL: 'nope-secret-token' }
    }).then(() => null, (error: { code: number, stderr: string }) => error)
    expect(result).not.toBeNull()
    expect(result?.code).toBe(1)
    expect(result?.stderr).toMatch(/PORT: expected a whole number/)
    expect(result?.stderr).toMatch(/RECONCILE_INTERVAL_MS:/)
    expect(result?.stderr).toMatch(/DATABASE_URL:/)
    expect(result?.stderr).not.toContain('nope-secret-token')
  })
})
