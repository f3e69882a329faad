import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders as gamesoSigned, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { hostileJsonText, withHostile } from '../helpers/hostile-values.js'
import { midasbuyKeys, midasbuyOrder, signedHeaders as midasbuySigned } from '../helpers/midasbuy-notifications.js'
import { propertyParameters } from '../helpers/property.js'

// Properties over both webhook routes, signed and unsigned, with bytes, JSON and valid orders
// whose fields are replaced by hostile values: never a 5xx, always the route's error shape,
// nothing stored without a valid signature, and every signed JSON delivery in the inbox.

const RUNS = 40

describe('webhook routes under fuzzing', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey,
      WEBHOOK_TOLERANCE_SECONDS: '0'
    }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  interface Route {
    name: string
    url: string
    sign: (body: Buffer) => Record<string, string>
    /** The template a hostile value is put into, and the paths that can be replaced. */
    template: () => Record<string, unknown>
    expectShape: (status: number, body: unknown) => void
  }

  // Each template gets references of its own (a counter: the file has its own database).
  let templates = 0
  const gamesoTemplate = () => ({ event: 'order.completed', timestamp: 1_771_834_095, data: gamesoOrder(`fuzz-${++templates}`, 'completed', '2026-02-23T08:08:15.000Z') })
  const midasbuyTemplate = () => ({
    id: `fuzz-${++templates}`,
    event_type: 'PAYMENT.ORDER.STATUS_CHANGED',
    resource: midasbuyOrder({ paymentOrderId: `MB-${templates}`, status: 'Paid', updateTime: '2026-05-01T00:00:00Z' })
  })

  const routes: Route[] = [
    {
      name: 'GameSO',
      url: '/webhooks/gameso',
      sign: (body) => gamesoSigned(body),
      template: gamesoTemplate,
      expectShape: (status, body) => {
        if (status === 200) expect(body).toEqual({ received: true, outcome: expect.stringMatching(/^(applied|duplicate|stale|ignored)$/) })
        else expect(body).toEqual({ status, code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) })
      }
    },
    {
      name: 'MidasBuy',
      url: '/webhooks/midasbuy/payment_notification',
      sign: (body) => midasbuySigned(body),
      template: midasbuyTemplate,
      expectShape: (status, body) => {
        if (status === 200) expect(body).toEqual({ processed: true, message: expect.any(String) })
        else expect(body).toEqual({ processed: false, message: expect.any(String) })
      }
    }
  ]

  async function storedBytes (provider: string, body: Buffer): Promise<boolean> {
    const { rows } = await database.db.pool.query('SELECT 1 FROM webhook_inbox WHERE provider = $1 AND body_sha256 = $2',
      [provider, createHash('sha256').update(body).digest()])
    return rows.length === 1
  }

  /** Whether some stored row of the provider holds this JSON value (whatever its spacing). */
  async function storedValue (provider: string, value: unknown): Promise<boolean> {
    const { rows } = await database.db.pool.query<{ body: Buffer }>('SELECT body FROM webhook_inbox WHERE provider = $1', [provider])
    return rows.some((row) => {
      try {
        return isDeepStrictEqual(JSON.parse(row.body.toString('utf8')), value)
      } catch {
        return false
      }
    })
  }

  /** A delivery is stored as its bytes; a non-empty MidasBuy array as one row per element. */
  async function stored (provider: string, body: Buffer): Promise<boolean> {
    const parsed: unknown = isJson(body) ? JSON.parse(body.toString('utf8')) : undefined
    if (provider !== 'midasbuy' || !Array.isArray(parsed) || parsed.length === 0) return storedBytes(provider, body)
    for (const element of parsed) if (!await storedValue(provider, element)) return false
    return true
  }

  async function inboxSize (): Promise<number> {
    const { rows } = await database.db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM webhook_inbox')
    return rows[0]?.count ?? 0
  }

  function isJson (body: Buffer): boolean {
    try {
      JSON.parse(body.toString('utf8'))
      return true
    } catch {
      return false
    }
  }

  async function deliver (route: Route, body: Buffer, headers: Record<string, string>) {
    const response = await app.inject({ method: 'POST', url: route.url, headers, payload: body })
    expect(response.statusCode).toBeLessThan(500)
    route.expectShape(response.statusCode, response.json())
    return response
  }

  const provider = (route: Route) => route.name === 'GameSO' ? 'gameso' : 'midasbuy'

  describe.each(routes)('$name', (route) => {
    it('unsigned or wrongly signed bytes store nothing and are refused in the shape', async () => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.boolean(), async (bytes, withWrongSignature) => {
        const body = Buffer.from(bytes)
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (withWrongSignature) Object.assign(headers, route.sign(Buffer.concat([body, Buffer.from('tampered')])), { 'content-type': 'application/json' })
        const before = await inboxSize()
        const response = await deliver(route, body, headers)
        expect(response.statusCode).toBe(401)
        expect(await inboxSize()).toBe(before)
      }), propertyParameters(RUNS))
    })

    it('signed arbitrary bytes: never a 5xx, and every one that is JSON is stored', async () => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const body = Buffer.from(bytes)
        await deliver(route, body, route.sign(body))
        if (isJson(body)) expect(await stored(provider(route), body)).toBe(true)
      }), propertyParameters(RUNS))
    })

    it('signed arbitrary JSON: never a 5xx, always stored', async () => {
      await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const body = Buffer.from(JSON.stringify(value) ?? 'null')
        await deliver(route, body, route.sign(body))
        expect(await stored(provider(route), body)).toBe(true)
      }), propertyParameters(RUNS))
    })

    it('a valid order with any one field hostile, signed: never a 5xx, always stored; unsigned: nothing stored', async () => {
      const template = route.template()
      const inner = (route.name === 'GameSO' ? template.data : template.resource) as Record<string, unknown>
      const item = (route.name === 'GameSO' ? inner.items : inner.order_items) as Array<Record<string, unknown>>
      const paths = [
        ...Object.keys(template).map((key) => [key]),
        ...Object.keys(inner).map((key) => [route.name === 'GameSO' ? 'data' : 'resource', key]),
        ...Object.keys(item[0] ?? {}).map((key) => [route.name === 'GameSO' ? 'data' : 'resource', route.name === 'GameSO' ? 'items' : 'order_items', '0', key]),
        [route.name === 'GameSO' ? 'data' : 'resource', 'extra_field']
      ]
      await fc.assert(fc.asyncProperty(fc.constantFrom(...paths), hostileJsonText, fc.boolean(), async (path, hostile, signed) => {
        const document = route.template()
        let target: Record<string, unknown> = document
        for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>
        target[path[path.length - 1] as string] = '@@HOSTILE@@'
        const body = withHostile(document, hostile)
        const before = await inboxSize()
        const response = await deliver(route, body, signed ? route.sign(body) : { 'content-type': 'application/json' })
        if (signed) {
          expect(await stored(provider(route), body)).toBe(true)
        } else {
          expect(response.statusCode).toBe(401)
          expect(await inboxSize()).toBe(before)
        }
      }), propertyParameters(RUNS * 2))
    })
  })
})
