import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildApp } from '../../src/app.js'
import { createDatabase } from '../../src/db/database.js'
import { AppError } from '../../src/errors.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

function expectErrorShape (body: unknown, status: number, code: string) {
  expect(body).toEqual({ status, code, message: expect.any(String) })
}

describe('error responses', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url), { db: database.db })
    // Routes that exercise each error path of the shared handler.
    const typed = app.withTypeProvider<ZodTypeProvider>()
    typed.post('/test/echo', {
      schema: {
        body: z.object({ name: z.string().min(1), count: z.number().int() }),
        querystring: z.object({ limit: z.coerce.number().int().max(10).optional() })
      }
    }, async (request) => request.body)
    typed.get('/test/boom', async () => { throw new Error('secret internal detail at /srv/app.js:12') })
    typed.get('/test/domain', async () => { throw new AppError(409, 'DUPLICATE_REFERENCE', 'reference_id already used') })
    typed.get('/test/db-down', async () => {
      const down = createDatabase('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 300 })
      try {
        await down.pool.query('SELECT 1')
      } finally {
        await down.close()
      }
      return { unreachable: false }
    })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('unknown routes get the JSON shape, not HTML', async () => {
    const response = await app.inject({ method: 'GET', url: '/no/such/route?x=1' })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toMatch(/application\/json/)
    expectErrorShape(response.json(), 404, 'NOT_FOUND')
    expect(response.json().message).toBe('Route GET /no/such/route not found')
  })

  it('query validation errors name the field', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo?limit=99', payload: { name: 'a', count: 1 } })
    expect(response.statusCode).toBe(400)
    expectErrorShape(response.json(), 400, 'VALIDATION_ERROR')
    expect(response.json().message).toMatch(/query\.limit/)
  })

  it('body validation errors name the fields', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: '', count: 1.5 } })
    expect(response.statusCode).toBe(400)
    expectErrorShape(response.json(), 400, 'VALIDATION_ERROR')
    expect(response.json().message).toMatch(/body\.name/)
    expect(response.json().message).toMatch(/body\.count/)
  })

  it('malformed JSON is 400 BAD_REQUEST', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
    expect(response.statusCode).toBe(400)
    expectErrorShape(response.json(), 400, 'BAD_REQUEST')
  })

  it('an unsupported content type is 415', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'text/csv' }, payload: 'a,b' })
    expect(response.statusCode).toBe(415)
    expectErrorShape(response.json(), 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  it('an oversized body is 413', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'x'.repeat(100 * 1024), count: 1 } })
    expect(response.statusCode).toBe(413)
    expectErrorShape(response.json(), 413, 'PAYLOAD_TOO_LARGE')
  })

  it('domain errors keep their status and code', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/domain' })
    expect(response.statusCode).toBe(409)
    expect(response.json()).toEqual({ status: 409, code: 'DUPLICATE_REFERENCE', message: 'reference_id already used' })
  })

  it('unexpected errors are 500 without their text or a stack', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/boom' })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' })
    expect(response.body).not.toContain('secret internal detail')
  })

  it('an unreachable database is 503 UNAVAILABLE', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/db-down' })
    expect(response.statusCode).toBe(503)
    expectErrorShape(response.json(), 503, 'UNAVAILABLE')
  })
})
