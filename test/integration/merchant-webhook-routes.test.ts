import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { hostileJsonText, percentEncodeBytes, withHostile } from '../helpers/hostile-values.js'
import { propertyParameters } from '../helpers/property.js'

const API_KEY = 'merchant-webhooks-test-key'
const SECRET = 'whsec-merchant-0123456789abcdef'
const RUNS = 60

describe('merchant webhook endpoints (SPEC §2.4)', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY }), { db: database.db })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  function call (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
    const body = payload === undefined ? {} : Buffer.isBuffer(payload) ? { payload, headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' } } : { payload: payload as object }
    return app.inject({ method, url, headers: { 'x-api-key': API_KEY }, ...body })
  }

  function expectValidationError (response: LightMyRequestResponse): void {
    expect(response.statusCode, response.body).toBe(400)
    const body = response.json()
    expect(body).toEqual({ status: 400, code: 'VALIDATION_ERROR', message: expect.any(String) })
  }

  async function storedEndpointCount (): Promise<number> {
    return Number((await database.db.pool.query('SELECT count(*) FROM merchant_webhook_endpoints')).rows[0].count)
  }

  it('creates, lists, reads, changes and removes an endpoint; the secret only ever shows as its hint', async () => {
    const created = await call('POST', '/v1/merchant-webhooks', { url: 'https://merchant.example/hooks/gameso', secret: SECRET, description: 'main shop' })
    expect(created.statusCode).toBe(201)
    const record = created.json()
    expect(record).toEqual({
      id: expect.any(Number),
      url: 'https://merchant.example/hooks/gameso',
      events: ['order.completed', 'order.failed'],
      description: 'main shop',
      secret_hint: 'whsec-me...',
      status: 'active',
      max_retries: 8,
      retry_delay: 60,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    })

    const listed = await call('GET', '/v1/merchant-webhooks')
    expect(listed.statusCode).toBe(200)
    expect(listed.json()).toContainEqual(record)

    const patched = await call('PATCH', `/v1/merchant-webhooks/${record.id}`, { events: ['*', '*'], max_retries: 0, retry_delay: 5, status: 'inactive', secret: 'another-secret-abcdefghijk' })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ events: ['*'], max_retries: 0, retry_delay: 5, status: 'inactive', secret_hint: 'another-...' })
    expect((await call('GET', `/v1/merchant-webhooks/${record.id}`)).json()).toEqual(patched.json())

    for (const response of [created, listed, patched]) {
      expect(response.body).not.toContain(SECRET)
      expect(response.body).not.toContain('another-secret-abcdefghijk')
    }

    expect((await call('DELETE', `/v1/merchant-webhooks/${record.id}`)).statusCode).toBe(204)
    const gone = await call('GET', `/v1/merchant-webhooks/${record.id}`)
    expect(gone.statusCode).toBe(404)
    expect(gone.json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Webhook not found' })
    expect((await call('DELETE', `/v1/merchant-webhooks/${record.id}`)).statusCode).toBe(404)
  })

  it('answers 401 without a valid X-API-Key', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/merchant-webhooks', headers: { 'x-api-key': 'wrong' } })
    expect(response.statusCode).toBe(401)
    expect(response.json().code).toBe('UNAUTHORIZED')
  })

  const validHost = fc.constantFrom('merchant.example', '127.0.0.1', '[::1]', 'hooks.shop.test:8443')
  const badUrl = fc.oneof(
    fc.tuple(fc.constantFrom('ftp', 'file', 'javascript', 'data', 'ws', 'gopher', 'mailto'), validHost).map(([scheme, host]) => `${scheme}://${host}/x`),
    fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), validHost)
      .map(([user, password, host]) => `https://${encodeURIComponent(user)}${password === '' ? '' : `:${encodeURIComponent(password)}`}@${host}/`),
    fc.tuple(validHost, fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\ud800', '\udfff'))
      .map(([host, bad]) => `https://${host}/path${bad}tail`),
    fc.string({ maxLength: 30 }).filter((value) => !/^https?:\/\/[^/?#]/i.test(value)),
    // Longer than 2048, within the 64 KiB body limit (past it the answer is 413).
    fc.integer({ min: 2049, max: 60_000 }).map((length) => `https://merchant.example/${'a'.repeat(length)}`)
  )

  it('refuses any URL that is not http(s), carries credentials, holds unprintable characters or is too long', async () => {
    const before = await storedEndpointCount()
    await fc.assert(fc.asyncProperty(badUrl, async (url) => {
      expectValidationError(await call('POST', '/v1/merchant-webhooks', { url, secret: SECRET }))
    }), propertyParameters(RUNS))
    expect(await storedEndpointCount()).toBe(before)
  })

  const badSecret = fc.oneof(
    fc.string({ maxLength: 15 }),
    fc.tuple(fc.string({ minLength: 16, maxLength: 40 }), fc.constantFrom('\u0000', '\ud800', '\u0008', '\u2029')).map(([text, bad]) => `${text}${bad}`),
    fc.integer({ min: 513, max: 60_000 }).map((length) => 's'.repeat(length))
  )

  it('refuses short, huge or unprintable secrets and bad retry settings, changing nothing', async () => {
    const existing = (await call('POST', '/v1/merchant-webhooks', { url: 'http://127.0.0.1:9/x', secret: SECRET })).json()
    const before = await storedEndpointCount()
    const badSetting = fc.oneof(
      fc.record({ max_retries: fc.oneof(fc.integer({ min: -1000, max: -1 }), fc.integer({ min: 21, max: 10_000 }), fc.double({ noInteger: true })) }),
      fc.record({ retry_delay: fc.oneof(fc.integer({ min: -1000, max: 0 }), fc.integer({ min: 86_401, max: 10_000_000 }), fc.constant('60')) }),
      fc.record({ events: fc.oneof(fc.constant([]), fc.array(fc.string({ maxLength: 20 }).filter((value) => !['order.pending', 'order.processing', 'order.completed', 'order.failed', '*'].includes(value)), { minLength: 1, maxLength: 3 }), fc.constant('order.completed')) })
    )
    const badStatus = fc.string({ maxLength: 10 }).filter((value) => value !== 'active' && value !== 'inactive')
    await fc.assert(fc.asyncProperty(badSecret, badSetting, badStatus, async (secret, setting, status) => {
      expectValidationError(await call('POST', '/v1/merchant-webhooks', { url: 'http://127.0.0.1:9/x', secret }))
      expectValidationError(await call('POST', '/v1/merchant-webhooks', { url: 'http://127.0.0.1:9/x', secret: SECRET, ...setting }))
      expectValidationError(await call('PATCH', `/v1/merchant-webhooks/${existing.id}`, { secret }))
      expectValidationError(await call('PATCH', `/v1/merchant-webhooks/${existing.id}`, setting))
      expectValidationError(await call('PATCH', `/v1/merchant-webhooks/${existing.id}`, { status }))
    }), propertyParameters(RUNS))
    expect(await storedEndpointCount()).toBe(before)
    expect((await call('GET', `/v1/merchant-webhooks/${existing.id}`)).json()).toEqual(existing)
  })

  it('a hostile value in any field: 201 storing it exactly as sent, or 400 in the one shape; never a 5xx', async () => {
    const valid = { url: 'https://merchant.example/h', secret: SECRET, events: ['*'], max_retries: 3, retry_delay: 10, description: 'd' }
    const body = fc.tuple(fc.constantFrom('url', 'secret', 'events', 'max_retries', 'retry_delay', 'description', 'extra'), hostileJsonText)
      .map(([field, hostile]) => withHostile({ ...valid, [field]: '@@HOSTILE@@' }, hostile))
    await fc.assert(fc.asyncProperty(body, async (payload) => {
      const response = await call('POST', '/v1/merchant-webhooks', payload)
      expect([201, 400]).toContain(response.statusCode)
      if (response.statusCode === 400) expect(['VALIDATION_ERROR', 'BAD_REQUEST']).toContain(response.json().code)
      else expect((await call('GET', `/v1/merchant-webhooks/${response.json().id}`)).json()).toEqual(response.json())
    }), propertyParameters(RUNS))
  })

  it('bad ids and limits are 400 VALIDATION_ERROR on every route that takes them', async () => {
    const badId = fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }).filter((value) => !/^[1-9]\d{0,17}$/.test(value) && value !== '.' && value !== '..'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((value) => !/^[1-9]\d{0,17}$/.test(value) && value.isWellFormed() && value !== '.' && value !== '..'),
      fc.constantFrom('0', '-1', '1e3', '0x10', '99999999999999999999', '1.5', ' 1', '1\u0000', '\ud800')
    ).map((value) => encodeURIComponent(value.toWellFormed()))
    const badLimit = fc.oneof(fc.constantFrom('0', '501', '-1', '1e2', '0x10', '', 'ten', '%00'), fc.integer({ min: 501, max: 1_000_000 }).map(String))
    await fc.assert(fc.asyncProperty(badId, badLimit, async (id, limit) => {
      expectValidationError(await call('GET', `/v1/merchant-webhooks/${id}`))
      expectValidationError(await call('DELETE', `/v1/merchant-webhooks/${id}`))
      expectValidationError(await call('PATCH', `/v1/merchant-webhooks/${id}`, { status: 'active' }))
      expectValidationError(await call('GET', `/v1/merchant-webhooks/${id}/deliveries`))
      expectValidationError(await call('POST', `/v1/merchant-webhooks/${id}/deliveries/1/retry`))
      expectValidationError(await call('POST', `/v1/merchant-webhooks/1/deliveries/${id}/retry`))
      expectValidationError(await call('GET', `/v1/merchant-webhooks/1/deliveries?limit=${limit}`))
    }), propertyParameters(RUNS))
  })

  it('a path that is not UTF-8 is refused before routing, in the same shape', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 12 }).filter((bytes) => !Buffer.from(bytes).toString('utf8').isWellFormed() || Buffer.from(bytes).includes(0xff)), async (bytes) => {
      const response = await call('GET', `/v1/merchant-webhooks/${percentEncodeBytes(bytes)}`)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ status: 400, code: expect.stringMatching(/^(VALIDATION_ERROR|BAD_REQUEST)$/), message: expect.any(String) })
    }), propertyParameters(RUNS))
  })

  it('a well-formed id that names nothing is 404 NOT_FOUND', async () => {
    expect((await call('GET', '/v1/merchant-webhooks/999999999/deliveries')).json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Webhook not found' })
    expect((await call('POST', '/v1/merchant-webhooks/999999999/deliveries/1/retry')).json()).toEqual({ status: 404, code: 'NOT_FOUND', message: 'Delivery not found' })
    expect((await call('PATCH', '/v1/merchant-webhooks/999999999', { status: 'active' })).statusCode).toBe(404)
  })
})

describe('MERCHANT_WEBHOOK_ALLOWED_TARGETS', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      MERCHANT_WEBHOOK_ALLOWED_TARGETS: 'Hooks.Example.com, 10.0.0.0/8, 2001:db8::/32, 192.0.2.7'
    }), { db: database.db })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it.each([
    ['https://hooks.example.com/x', 201], ['http://HOOKS.example.com:8080/x', 201], ['http://10.1.2.3/x', 201],
    ['http://[2001:db8::1]/x', 201], ['http://192.0.2.7/x', 201],
    ['https://evil.example.com/x', 400], ['https://hooks.example.com.evil.test/x', 400], ['http://11.0.0.1/x', 400],
    ['http://192.0.2.8/x', 400], ['http://[::1]/x', 400], ['http://localhost/x', 400]
  ])('%s → %i', async (url, status) => {
    const response = await app.inject({ method: 'POST', url: '/v1/merchant-webhooks', headers: { 'x-api-key': API_KEY }, payload: { url, secret: SECRET } })
    expect(response.statusCode).toBe(status)
    if (status === 400) expect(response.json().message).toContain('MERCHANT_WEBHOOK_ALLOWED_TARGETS')
  })
})
