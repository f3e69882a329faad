import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ROUTE_EXAMPLES } from '../../src/docs/route-examples.js'
import { GAMESO_DOCS_COMPLETED_WEBHOOK, GAMESO_DOCS_FAILED_WEBHOOK } from '../../src/providers/gameso/gameso-doc-examples.js'
import { MIDASBUY_DOCS_NOTIFICATION } from '../../src/providers/midasbuy/midasbuy-doc-examples.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { signedHeaders as gamesoHeaders, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { midasbuyKeys, signedHeaders as midasbuyHeaders } from '../helpers/midasbuy-notifications.js'

const API_KEY = 'docs-test-key'

interface MediaObject { schema?: Record<string, unknown>, examples?: Record<string, { summary?: string, value: unknown }> }
interface Operation {
  parameters?: Array<{ in: string, name: string, schema: { example?: unknown } }>
  requestBody?: { content: Record<string, MediaObject> }
  responses: Record<string, { content?: Record<string, MediaObject> }>
  security?: Array<Record<string, unknown>>
  description?: string
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown> }
}

/** Every documented operation, as `GET /v1/orders/:reference_id` (the route's own form) with its entry. */
function operations (document: OpenApiDocument): Array<{ key: string, operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({
    key: `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`,
    operation
  })))
}

function examplesOf (media: Record<string, MediaObject> | undefined): Array<[string, unknown, Record<string, unknown> | undefined]> {
  return Object.values(media ?? {}).flatMap((entry) => Object.entries(entry.examples ?? {}).map(([name, example]): [string, unknown, Record<string, unknown> | undefined] => [name, example.value, entry.schema]))
}

describe('/docs', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let document: OpenApiDocument

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey,
      // The docs' payloads are dated February 2026.
      WEBHOOK_TOLERANCE_SECONDS: '0'
    }), { db: database.db })
    await app.ready()
    document = (await app.inject('/docs/json')).json()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('serves the page a person uses', async () => {
    const page = await app.inject('/docs/')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('swagger-ui')
  })

  it('lists every route the mirror serves, each with examples, and no example for a route it does not serve', () => {
    // Routes are documented unless hidden (only the page's own are): the document is the list of routes.
    const documented = operations(document)
    for (const { key } of documented) {
      const [method = '', url = ''] = key.split(' ')
      expect(app.hasRoute({ method: method as 'GET', url }), key).toBe(true)
    }
    const keys = documented.map(({ key }) => key)
    expect(keys.length).toBeGreaterThanOrEqual(12)
    expect(Object.keys(ROUTE_EXAMPLES).filter((key) => !keys.includes(key))).toEqual([])
    const missing = documented.flatMap(({ key, operation }) => {
      const problems: string[] = []
      if (operation.requestBody && examplesOf(operation.requestBody.content).length === 0) problems.push(`${key}: request body without an example`)
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'))
      if (!success.some(([, response]) => examplesOf(response.content).length > 0)) problems.push(`${key}: no example of a successful answer`)
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'path' && parameter.schema.example === undefined) problems.push(`${key}: path parameter ${parameter.name} without an example`)
      }
      return problems
    })
    expect(missing).toEqual([])
  })

  it('gives every example a status the route documents', () => {
    for (const { key, operation } of operations(document)) {
      for (const status of Object.keys(ROUTE_EXAMPLES[key]?.responses ?? {})) expect(Object.keys(operation.responses), key).toContain(status)
    }
  })

  it('has every example fit the schema it illustrates', () => {
    // OpenAPI 3.0 schemas: `nullable` and `example` are OpenAPI's keywords; formats as JSON Schema's.
    const ajv = new Ajv({ strict: false, allErrors: true })
    addFormats.default(ajv)
    const problems: string[] = []
    let checked = 0
    for (const { key, operation } of operations(document)) {
      const media = [
        ...(operation.requestBody ? [['body', operation.requestBody.content] as const] : []),
        ...Object.entries(operation.responses).map(([status, response]) => [status, response.content] as const)
      ]
      for (const [where, content] of media) {
        for (const [name, value, schema] of examplesOf(content)) {
          if (!schema) continue
          const validate: ValidateFunction = ajv.compile(schema)
          checked++
          if (!validate(value)) problems.push(`${key} ${where} ${name}: ${ajv.errorsText(validate.errors)}`)
        }
      }
    }
    expect(problems).toEqual([])
    expect(checked).toBeGreaterThanOrEqual(30)
  })

  it('offers the X-API-Key scheme that "Authorize" fills, on every merchant route and no other', () => {
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' })
    for (const { key, operation } of operations(document)) {
      const merchantRoute = key.includes(' /v1/') || key === 'POST /midasbuy/v2/orders'
      expect(operation.security, key).toEqual(merchantRoute ? [{ apiKey: [] }] : undefined)
    }
  })

  describe('the examples are what the mirror answers for the upstream docs\' payloads', () => {
    const responseExample = (key: string, status: number, name: string) => ROUTE_EXAMPLES[key]?.responses[status]?.[name]?.value

    async function postGameSo (payload: unknown) {
      const body = Buffer.from(JSON.stringify(payload))
      return app.inject({ method: 'POST', url: '/webhooks/gameso', headers: gamesoHeaders(body), payload: body })
    }

    beforeAll(async () => {
      expect((await postGameSo(GAMESO_DOCS_COMPLETED_WEBHOOK)).json()).toEqual(responseExample('POST /webhooks/gameso', 200, 'applied'))
      expect((await postGameSo(GAMESO_DOCS_COMPLETED_WEBHOOK)).json()).toEqual(responseExample('POST /webhooks/gameso', 200, 'duplicate'))
      expect((await postGameSo(GAMESO_DOCS_FAILED_WEBHOOK)).statusCode).toBe(200)
      const notification = Buffer.from(JSON.stringify(MIDASBUY_DOCS_NOTIFICATION))
      const midasbuy = await app.inject({ method: 'POST', url: '/webhooks/midasbuy/payment_notification', headers: midasbuyHeaders(notification), payload: notification })
      expect(midasbuy.json()).toEqual(responseExample('POST /webhooks/midasbuy/payment_notification', 200, 'applied'))
    })

    async function get (url: string, headers: Record<string, string> = { 'x-api-key': API_KEY }) {
      return app.inject({ url, headers })
    }

    it.each([
      ['completed', GAMESO_DOCS_COMPLETED_WEBHOOK.data.reference_id],
      ['failed', GAMESO_DOCS_FAILED_WEBHOOK.data.reference_id]
    ])('GET /v1/orders/{reference_id}: the %s example, byte for byte', async (name, reference) => {
      const answer = await get(`/v1/orders/${reference}`)
      expect(answer.statusCode).toBe(200)
      expect(answer.body).toBe(JSON.stringify(responseExample('GET /v1/orders/:reference_id', 200, name)))
    })

    it('GET /v1/midasbuy/orders/{payment_order_id}: the documented order, byte for byte', async () => {
      const answer = await get(`/v1/midasbuy/orders/${MIDASBUY_DOCS_NOTIFICATION.resource.payment_order_id}`)
      expect(answer.body).toBe(JSON.stringify(responseExample('GET /v1/midasbuy/orders/:payment_order_id', 200, 'paid')))
    })

    it('POST /midasbuy/v2/orders: the documented order byte for byte, and its 400, 401 and 404 examples', async () => {
      const key = 'POST /midasbuy/v2/orders'
      const orderQuery = async (payload: unknown, headers: Record<string, string> = { 'x-api-key': API_KEY }) =>
        app.inject({ method: 'POST', url: '/midasbuy/v2/orders', headers: { ...headers, 'x-request-id': 'req-7f3a' }, payload: payload as object })
      const answer = await orderQuery(ROUTE_EXAMPLES[key]?.body?.byId?.value)
      expect(answer.body).toBe(JSON.stringify(responseExample(key, 200, 'paid')))
      expect((await orderQuery({})).json()).toEqual(responseExample(key, 400, 'noId'))
      expect((await orderQuery({ id: 'SG2024113000900' }, {})).json()).toEqual(responseExample(key, 401, 'unauthenticated'))
      expect((await orderQuery({ id: 'SG2024113000999' })).json()).toEqual(responseExample(key, 404, 'notFound'))
    })

    it('the error examples: 401, 404, a bad filter, a bad create, a signed but invalid webhook, an unsigned one', async () => {
      expect((await get('/v1/orders/ref_RLUFNUHGXXX', {})).json()).toEqual(responseExample('GET /v1/orders/:reference_id', 401, 'unauthorized'))
      expect((await get('/v1/orders/ref_unknown')).json()).toEqual(responseExample('GET /v1/orders/:reference_id', 404, 'notFound'))
      expect((await get('/v1/orders?status=done')).json()).toEqual(responseExample('GET /v1/orders', 400, 'badStatus'))
      const create = await app.inject({ method: 'POST', url: '/v1/orders', headers: { 'x-api-key': API_KEY }, payload: { reference_id: 'ref_x', items: [] } })
      expect(create.json()).toEqual(responseExample('POST /v1/orders', 400, 'invalid'))
      const invalid = await postGameSo({ ...GAMESO_DOCS_COMPLETED_WEBHOOK, data: { ...GAMESO_DOCS_COMPLETED_WEBHOOK.data, status: 'done' } })
      expect(invalid.json()).toEqual(responseExample('POST /webhooks/gameso', 400, 'invalid'))
      const docsPayload = JSON.stringify(GAMESO_DOCS_COMPLETED_WEBHOOK)
      const unsigned = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: { 'content-type': 'application/json' }, payload: docsPayload })
      expect(unsigned.json()).toEqual(responseExample('POST /webhooks/gameso', 401, 'unsigned'))
      const wrong = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: gamesoHeaders(Buffer.from(docsPayload), 'another-secret'), payload: docsPayload })
      expect(wrong.json()).toEqual(responseExample('POST /webhooks/gameso', 401, 'wrongSignature'))
      const notification = JSON.stringify(MIDASBUY_DOCS_NOTIFICATION)
      const midasbuyUnsigned = await app.inject({ method: 'POST', url: '/webhooks/midasbuy/payment_notification', headers: { 'content-type': 'application/json' }, payload: notification })
      expect(midasbuyUnsigned.json()).toEqual(responseExample('POST /webhooks/midasbuy/payment_notification', 401, 'unsigned'))
    })

    it('the list, health and metrics examples', async () => {
      const page = (await get('/v1/orders?status=completed&limit=50')).json<{ data: unknown[] }>()
      expect(page).toEqual(responseExample('GET /v1/orders', 200, 'page'))
      expect((await get('/health/live', {})).json()).toEqual(responseExample('GET /health/live', 200, 'live'))
      const metrics = (await get('/metrics', {})).body
      const example = String(responseExample('GET /metrics', 200, 'metrics')).split('\n').filter(Boolean)
      for (const line of example.slice(0, 2)) expect(metrics.split('\n')).toContain(line)
      expect(metrics).toMatch(/^order_mirror_webhooks_total\{provider="gameso",outcome="applied"\} \d+$/m)
    })
  })
})
