import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const KEY_A = 'merchant-key-alpha-0123456789'
const KEY_B = 'merchant-key-bravo-9876543210'
const UNAUTHORIZED = { status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' }
const MERCHANT_URL = '/v1/orders/ref-unknown'

describe('merchant API authentication and rate limit', () => {
  let database: TestDatabase
  // A new app per test: rate-limit quotas, counters and log lines are the app's own, so each test
  // starts from full quotas and zero counts whatever ran before it.
  let app: FastifyInstance
  let logLines: string[]

  const inject = (url: string, key?: string) =>
    app.inject({ method: 'GET', url, headers: key === undefined ? {} : { 'x-api-key': key } })

  /** Spends KEY_A's whole quota of 3 requests. */
  async function spendQuotaOfKeyA () {
    for (let request = 0; request < 3; request++) expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(404)
  }

  beforeAll(async () => { database = await createTestDatabase() })
  afterAll(async () => { await database.drop() })

  beforeEach(async () => {
    const lines: string[] = []
    logLines = lines
    const config = testConfig(database.url, { API_KEYS: `${KEY_A}, ${KEY_B}`, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000', LOG_LEVEL: 'trace' })
    const sink = new Writable({ write (chunk, _encoding, done) { lines.push(chunk.toString()); done() } })
    app = await buildApp(config, { db: database.db, logger: pino(loggerOptions(config, false), sink) })
    await app.ready()
  })
  afterEach(async () => { await app.close() })

  it('answers 401 UNAUTHORIZED exactly as GameSO without a key or with a wrong one', async () => {
    for (const key of [undefined, '', 'wrong', KEY_A.slice(1)]) {
      const response = await inject(MERCHANT_URL, key)
      expect(response.statusCode).toBe(401)
      expect(response.body).toBe(JSON.stringify(UNAUTHORIZED))
    }
  })

  it('lets each configured key through', async () => {
    expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(404)
    expect((await inject('/v1/orders?limit=1', KEY_B)).statusCode).toBe(200)
  })

  it('limits each key on its own: 429 RATE_LIMITED with Retry-After once its quota is spent', async () => {
    // Unauthenticated requests spend no quota.
    expect((await inject(MERCHANT_URL, 'wrong')).statusCode).toBe(401)
    expect((await inject(MERCHANT_URL, KEY_A)).headers['x-ratelimit-remaining']).toBe('2')
    const second = await inject(MERCHANT_URL, KEY_A)
    expect(second.headers['x-ratelimit-limit']).toBe('3')
    expect(second.headers['x-ratelimit-remaining']).toBe('1')
    expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(404)

    const limited = await inject(MERCHANT_URL, KEY_A)
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toEqual({ status: 429, code: 'RATE_LIMITED', message: expect.stringMatching(/^Rate limit exceeded, retry in /) })
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['x-ratelimit-remaining']).toBe('0')
    expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThan(0)

    const other = await inject('/v1/orders?limit=1', KEY_B)
    expect(other.statusCode).toBe(200)
    expect(other.headers['x-ratelimit-remaining']).toBe('2')
  })

  it('still refuses a bad key with 401 while a good key is rate-limited', async () => {
    await spendQuotaOfKeyA()
    expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(429)
    expect((await inject(MERCHANT_URL, 'wrong')).statusCode).toBe(401)
  })

  it('neither authenticates nor limits health, metrics and docs', async () => {
    for (const url of ['/health/live', '/metrics', '/docs/json']) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await inject(url)
        expect(response.statusCode).toBe(200)
        expect(response.headers['x-ratelimit-limit']).toBeUndefined()
      }
    }
  })

  it('counts refusals by reason in /metrics', async () => {
    expect((await inject(MERCHANT_URL)).statusCode).toBe(401)
    await spendQuotaOfKeyA()
    expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(429)
    const metrics = (await inject('/metrics')).body
    expect(metrics).toMatch(/order_mirror_merchant_requests_refused_total\{reason="unauthorized"\} [1-9]/)
    expect(metrics).toMatch(/order_mirror_merchant_requests_refused_total\{reason="rate_limited"\} [1-9]/)
  })

  it('documents the key and the 401 / 429 bodies on every merchant route', async () => {
    const paths = (await inject('/docs/json')).json().paths as Record<string, Record<string, { security?: unknown, responses: Record<string, unknown> }>>
    const merchantOperations = Object.entries(paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([, operations]) => Object.values(operations))
    expect(merchantOperations.length).toBeGreaterThanOrEqual(3)
    for (const operation of merchantOperations) {
      expect(operation.security).toEqual([{ apiKey: [] }])
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '429']))
    }
    expect(paths['/health/live']?.get?.security).toBeUndefined()
  })

  it('never writes a key into the logs, even at trace level', async () => {
    for (const key of [KEY_B, KEY_A.slice(1)]) await inject(MERCHANT_URL, key)
    await spendQuotaOfKeyA()
    expect((await inject(MERCHANT_URL, KEY_A)).statusCode).toBe(429)
    const output = logLines.join('')
    expect(output).toContain('incoming request')
    for (const key of [KEY_A, KEY_B, KEY_A.slice(1)]) expect(output).not.toContain(key)
  })
})

describe('merchant API without API_KEYS', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('refuses every merchant request, whatever key is sent', async () => {
    for (const headers of [{}, { 'x-api-key': '' }, { 'x-api-key': KEY_A }]) {
      const response = await app.inject({ method: 'GET', url: MERCHANT_URL, headers })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual(UNAUTHORIZED)
    }
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
  })
})
