import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

// What the merchant API refuses before it reaches the database or GameSO: 400 VALIDATION_ERROR
// naming the field, never a 500.

const API_KEY = 'merchant-key'

function cursorOf (payload: unknown): string {
  return Buffer.from(JSON.stringify(payload)).toString('base64url')
}

describe('merchant API input', () => {
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

  function get (url: string) {
    return app.inject({ method: 'GET', url, headers: { 'x-api-key': API_KEY } })
  }

  function expectRefused (response: { statusCode: number, json: () => { message: string } }, field: string) {
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message: expect.stringContaining(field) })
  }

  it.each(['0x10', '1e2', '%2B7', '+7', '%207', '7%20', '-1', '7.0', '', '0', '501', '99999999999999999999'])('limit=%s is refused', async (limit) => {
    expectRefused(await get(`/v1/orders?limit=${limit}`), 'query.limit')
  })

  it.each(['1', '7', '007', '500'])('limit=%s is a page size', async (limit) => {
    const response = await get(`/v1/orders?limit=${limit}`)
    expect(response.statusCode).toBe(200)
  })

  it.each([
    ['an id beyond bigint', cursorOf([null, '9223372036854775808'])],
    ['the largest id plus a lot', cursorOf(['2026-01-01T00:00:00.000Z', '9999999999999999999'])],
    ['an id of zero', cursorOf([null, '0'])],
    ['a number instead of a string', cursorOf([null, 5])],
    ['a timestamp that is no instant', cursorOf(['2026-02-30T00:00:00.000Z', '5'])],
    ['bytes that are not JSON', Buffer.from('not json').toString('base64url')],
    ['characters outside base64url', `${cursorOf([null, '5'])}!!`],
    ['a NUL', '%00'],
    ['nothing', '']
  ])('a cursor with %s is refused', async (_what, cursor) => {
    expectRefused(await get(`/v1/orders?cursor=${cursor}`), 'query.cursor')
  })

  it('the largest bigint id is still a position', async () => {
    const response = await get(`/v1/orders?cursor=${cursorOf([null, '9223372036854775807'])}`)
    expect(response.statusCode).toBe(200)
  })

  it.each([['%00', 'NUL'], ['a%0Ab', 'U+000A'], ['%1B%5B31m', 'U+001B'], ['%C2%85', 'U+0085'], ['%E2%80%A8', 'U+2028']])('user_id=%s is refused (%s)', async (value, problem) => {
    const response = await get(`/v1/orders?user_id=${value}`)
    expectRefused(response, 'query.user_id')
    expect(response.json().message).toContain(problem)
  })

  it.each([
    ['/v1/orders/a%00b/history', 'params.reference_id'],
    ['/v1/orders/a%09b', 'params.reference_id'],
    [`/v1/orders/${'r'.repeat(256)}`, 'params.reference_id: must be at most 255 characters'],
    ['/v1/midasbuy/orders/a%7Fb', 'params.payment_order_id']
  ])('%s is refused', async (url, field) => {
    expectRefused(await get(url), field)
  })

  const validCreate = { reference_id: 'create-1', user_id: 'player-1', items: [{ sku: 'DIAMOND_100', quantity: 1 }] }

  it.each([
    ['reference_id', { ...validCreate, reference_id: '.' }, 'body.reference_id: must not be "." or ".."'],
    ['reference_id', { ...validCreate, reference_id: '..' }, 'body.reference_id: must not be "." or ".."'],
    ['reference_id', { ...validCreate, reference_id: 'a\u0000b' }, 'body.reference_id: must not contain a NUL character (U+0000)'],
    ['reference_id', { ...validCreate, reference_id: 'a\ud800' }, 'body.reference_id: must not contain an unpaired UTF-16 surrogate (U+D800)'],
    ['reference_id', { ...validCreate, reference_id: 'line\nbreak' }, 'body.reference_id: must not contain the control character U+000A'],
    ['user_id', { ...validCreate, user_id: '\u0000' }, 'body.user_id: must not contain a NUL character (U+0000)'],
    ['items[].sku', { ...validCreate, items: [{ sku: 'S\u0000' }] }, 'body.items.0.sku: must not contain a NUL character (U+0000)'],
    ['server_id', { ...validCreate, server_id: 's\u0000' }, 'body.server_id: must not contain a NUL character (U+0000)'],
    ['character_id', { ...validCreate, character_id: '\udc00' }, 'body.character_id: must not contain an unpaired UTF-16 surrogate (U+DC00)']
  ])('a create with a bad %s is refused', async (_field, body, message) => {
    const response = await app.inject({ method: 'POST', url: '/v1/orders', headers: { 'x-api-key': API_KEY }, payload: body })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ status: 400, code: 'VALIDATION_ERROR', message })
  })
})
