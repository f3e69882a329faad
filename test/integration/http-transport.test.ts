import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { rawExchange } from '../helpers/raw-http.js'

// Malformed and hostile HTTP over a real socket: every answer is the one JSON error shape, and a
// client that is slow or lies about its body is cut off with 408 by the configured request
// timeout — the short one configured here, so the test does not wait long. Nothing here measures
// how long anything took.

const REQUEST_TIMEOUT_MS = 400

describe('HTTP transport refusals', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let port: number

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      API_KEYS: 'merchant-key',
      GAMESO_WEBHOOK_SECRETS: 'secret',
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS)
    }), { db: database.db })
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  function expectShape (response: { status: number, headers: Record<string, string>, body: string }, status: number, code: string) {
    expect(response.status).toBe(status)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(response.body)).toEqual({ status, code, message: expect.any(String) })
  }

  it.each([
    ['a NUL byte in a header value', 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n'],
    ['a control byte in a header name', 'GET /health/live HTTP/1.1\r\nHost: x\r\nX\u0001Bad: a\r\n\r\n'],
    ['an obs-fold continuation line', 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n'],
    ['a Content-Length that is not a number', 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
    ['two different Content-Lengths', 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    ['Content-Length and chunked together', 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
    ['a chunk size that is not hex', 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
    ['a chunk size too large for any body', 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n'],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
    ['a space inside the request target', 'GET /health/ live HTTP/1.1\r\nHost: x\r\n\r\n']
  ])('%s: 400 BAD_REQUEST in the shape, connection closed', async (_what, request) => {
    const response = await rawExchange(port, [request])
    expectShape(response, 400, 'BAD_REQUEST')
    expect(response.headers.connection).toBe('close')
    expect(response.closed).toBe(true)
  })

  it('a 64 KiB header: 431 in the shape', async () => {
    const response = await rawExchange(port, [`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`])
    expectShape(response, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE')
    expect(response.headers.connection).toBe('close')
  })

  it('a Content-Length longer than the body sent: 408 in the shape once the request timeout passes', async () => {
    const response = await rawExchange(port, ['POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"event":'])
    expectShape(response, 408, 'REQUEST_TIMEOUT')
    expect(response.headers.connection).toBe('close')
    expect(response.closed).toBe(true)
  })

  it('a body sent a byte at a time, past the request timeout: 408 in the shape', async () => {
    const head = 'POST /webhooks/gameso HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n'
    const bytes = Array.from({ length: 64 }, () => 'x')
    const response = await rawExchange(port, [head, ...bytes], { gapMs: REQUEST_TIMEOUT_MS / 8 })
    expectShape(response, 408, 'REQUEST_TIMEOUT')
  })

  it('headers sent a line at a time, past the timeout: 408 in the shape', async () => {
    const lines = ['GET /health/live HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_unused, index) => `X-Slow-${index}: a\r\n`), '\r\n']
    const response = await rawExchange(port, lines, { gapMs: REQUEST_TIMEOUT_MS / 8 })
    expectShape(response, 408, 'REQUEST_TIMEOUT')
  })

  it.each([
    ['bad percent-encoding', '/v1/orders/%ZZ'],
    ['percent-encoded bytes that are not UTF-8', '/v1/orders/%FF'],
    ['a percent-encoded lone surrogate', '/v1/orders/%ED%A0%80']
  ])('a path with %s: 400 BAD_REQUEST in the shape, not Fastify\'s own', async (_what, path) => {
    const response = await rawExchange(port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`])
    expectShape(response, 400, 'BAD_REQUEST')
    expect(response.body).not.toContain('FST_ERR')
  })

  it.each([
    ['an unknown route', 'GET /nope HTTP/1.1', 404, 'NOT_FOUND'],
    ['a known path with another method', 'DELETE /v1/orders/x HTTP/1.1', 404, 'NOT_FOUND'],
    ['a JSON body that does not parse', 'POST /v1/orders HTTP/1.1\r\nX-API-Key: merchant-key\r\nContent-Type: application/json\r\nContent-Length: 5', 400, 'BAD_REQUEST'],
    ['a content type no route takes', 'POST /v1/orders HTTP/1.1\r\nX-API-Key: merchant-key\r\nContent-Type: text/csv\r\nContent-Length: 5', 415, 'UNSUPPORTED_MEDIA_TYPE']
  ])('%s: %i in the shape', async (_what, requestLine, status, code) => {
    const withBody = requestLine.includes('Content-Length')
    const response = await rawExchange(port, [`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n${withBody ? '{"a":' : ''}`])
    expectShape(response, status, code)
  })

  it('a well-formed request on the same server still works', async () => {
    const response = await rawExchange(port, ['GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({ status: 'ok' })
  })
})
