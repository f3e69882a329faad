import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { hostileJsonText, percentEncodeBytes, withHostile } from '../helpers/hostile-values.js'
import { propertyParameters } from '../helpers/property.js'

// Properties over the merchant API: whatever the path, filters, cursor or create body, the answer
// is a success or a refusal in {status, code, message}, never a 500 (GameSO is not configured
// here, so a create that passes validation is the documented 503 GAMESO_NOT_CONFIGURED).

const API_KEY = 'merchant-key'
const RUNS = 60
const QUERY_KEYS = ['provider', 'status', 'user_id', 'updated_since', 'updated_until', 'limit', 'cursor', 'unknown']

describe('merchant API under fuzzing', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, RATE_LIMIT_MAX: '1000000' }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  async function expectAnswered (method: 'GET' | 'POST', url: string, payload?: Buffer) {
    const response = await app.inject({
      method,
      url,
      headers: { 'x-api-key': API_KEY, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload })
    })
    expect(response.statusCode).not.toBe(500)
    if (response.statusCode >= 400) expect(response.json()).toEqual({ status: response.statusCode, code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) })
    return response
  }

  const urlComponent = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map(percentEncodeBytes),
    fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('.', '..', '%2e', '%2E%2E', '%00', '%ZZ', '%', '%ED%A0%80', '..%2F', '%2F', '%3F', '%23', 'a'.repeat(300))
  )

  it('any reference in the read paths: never a 5xx, 404 or 400 in the shape', async () => {
    await fc.assert(fc.asyncProperty(urlComponent, fc.constantFrom('/v1/orders/', '/v1/midasbuy/orders/'), fc.constantFrom('', '/history'), async (reference, prefix, suffix) => {
      const response = await expectAnswered('GET', `${prefix}${reference}${prefix === '/v1/orders/' ? suffix : ''}`)
      expect(response.statusCode).toBeLessThan(500)
    }), propertyParameters(RUNS))
  })

  it('any filters and cursor on the list: 200 or 400 in the shape', async () => {
    const pair = fc.tuple(fc.constantFrom(...QUERY_KEYS), urlComponent)
    await fc.assert(fc.asyncProperty(fc.array(pair, { maxLength: 4 }), async (pairs) => {
      const query = pairs.map(([key, value]) => `${key}=${value}`).join('&')
      const response = await expectAnswered('GET', `/v1/orders?${query}`)
      expect([200, 400]).toContain(response.statusCode)
    }), propertyParameters(RUNS))
  })

  it('cursors that are base64url of anything: 200 or 400 naming the cursor', async () => {
    const payload = fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value) ?? 'null'), hostileJsonText,
      fc.tuple(fc.oneof(fc.constant(null), fc.date({ noInvalidDate: true }).map((date) => date.toISOString())), fc.bigInt({ min: -10n, max: 2n ** 70n }).map(String))
        .map((tuple) => JSON.stringify(tuple)))
    await fc.assert(fc.asyncProperty(payload, async (text) => {
      const response = await expectAnswered('GET', `/v1/orders?cursor=${Buffer.from(text).toString('base64url')}`)
      expect([200, 400]).toContain(response.statusCode)
      if (response.statusCode === 400) expect(response.json().message).toContain('query.cursor')
    }), propertyParameters(RUNS))
  })

  it('any create body, or a valid one with a hostile field: a refusal in the shape, never a 500', async () => {
    const valid = { reference_id: 'fuzz-create', user_id: 'player', server_id: null, items: [{ sku: 'DIAMOND_100', quantity: 1 }] }
    const hostileBody = fc.tuple(fc.constantFrom('reference_id', 'user_id', 'server_id', 'character_id', 'items', 'extra'), hostileJsonText)
      .map(([field, hostile]) => withHostile({ ...valid, [field]: '@@HOSTILE@@' }, hostile))
    const hostileSku = hostileJsonText.map((hostile) => withHostile({ ...valid, items: [{ sku: '@@HOSTILE@@', quantity: 1 }] }, hostile))
    const anyBytes = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes))
    await fc.assert(fc.asyncProperty(fc.oneof(hostileBody, hostileSku, anyBytes), async (body) => {
      const response = await expectAnswered('POST', '/v1/orders', body)
      expect([400, 413, 503]).toContain(response.statusCode)
      if (response.statusCode === 503) expect(response.json().code).toBe('GAMESO_NOT_CONFIGURED')
    }), propertyParameters(RUNS))
  })
})
