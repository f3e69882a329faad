import { createHash } from 'node:crypto'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { MAX_NOTIFICATION_ENVELOPES } from '../../src/providers/midasbuy/midasbuy-webhook.js'
import { replayInbox } from '../../src/services/inbox-replay.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { hostileJsonText } from '../helpers/hostile-values.js'
import { midasbuyKeys, midasbuyOrder, notificationBody, signedHeaders } from '../helpers/midasbuy-notifications.js'
import { propertyParameters } from '../helpers/property.js'

// A MidasBuy notification body may be a JSON array of envelopes (SPEC §2.1): each element is its
// own inbox row (its exact bytes, keyed by their hash) and its own merge, and the answer is
// processed:true only when every element is stored and valid. At most MAX_NOTIFICATION_ENVELOPES
// envelopes: past the cap the array is refused whole — nothing merged, no element stored — yet the
// verified body is kept once in the inbox as invalid, naming the limit.

const URL_PATH = '/webhooks/midasbuy/payment_notification'
const API_KEY = 'merchant-key-arrays'
/** Room for a few envelopes past the envelope cap, so the body limit never answers first there. */
const BODY_LIMIT = 512 * 1024

describe('MidasBuy notification arrays', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let orders = 0

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, {
      API_KEYS: API_KEY,
      MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey,
      WEBHOOK_TOLERANCE_SECONDS: '300',
      WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT)
    }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  /** A payment notification for an order of its own, as the bytes an array element carries. */
  function envelope (status = 'Paid', paymentOrderId = `SG-ARRAY-${++orders}`): { paymentOrderId: string, bytes: string } {
    const bytes = notificationBody(midasbuyOrder({ paymentOrderId, status, updateTime: '2026-05-01T00:00:00Z' })).toString('utf8')
    return { paymentOrderId, bytes }
  }

  function post (body: string) {
    return app.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
  }

  function sha256 (text: string): Buffer {
    return createHash('sha256').update(Buffer.from(text, 'utf8')).digest()
  }

  async function rowOf (bytes: string): Promise<{ outcome: string, body: Buffer, reference: string | null, headers: Record<string, string>, error: string | null } | undefined> {
    const { rows } = await database.db.pool.query('SELECT outcome, body, reference, headers, error FROM webhook_inbox WHERE provider = $1 AND body_sha256 = $2', ['midasbuy', sha256(bytes)])
    return rows[0]
  }

  async function inboxCount (): Promise<number> {
    const { rows } = await database.db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM webhook_inbox')
    return rows[0]?.count ?? 0
  }

  /** The inbox rows holding exactly these bytes, whichever they are. */
  async function rowsOf (bodies: readonly string[]): Promise<Array<{ outcome: string, error: string | null, delivery_count: number, replay_count: number, body: Buffer }>> {
    const { rows } = await database.db.pool.query('SELECT outcome, error, delivery_count, replay_count, body FROM webhook_inbox WHERE provider = $1 AND body_sha256 = ANY($2::bytea[])',
      ['midasbuy', bodies.map(sha256)])
    return rows
  }

  async function mirroredOrders (paymentOrderIds: readonly string[]): Promise<number> {
    const { rows } = await database.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE provider = 'midasbuy' AND reference = ANY($1::text[])", [paymentOrderIds])
    return rows[0]?.n ?? 0
  }

  function arrayOf (count: number, spacing = ''): { body: string, elements: string[], ids: string[] } {
    const elements = Array.from({ length: count }, () => envelope())
    return {
      body: `[${spacing}${elements.map((element) => element.bytes).join(`,${spacing}`)}${spacing}]`,
      elements: elements.map((element) => element.bytes),
      ids: elements.map((element) => element.paymentOrderId)
    }
  }

  const overTheCap = (count: number) => `body: an array of ${count} envelopes is over the limit of ${MAX_NOTIFICATION_ENVELOPES}; none of them was applied`

  async function statusOf (paymentOrderId: string): Promise<string | null> {
    const response = await app.inject({ method: 'GET', url: `/v1/midasbuy/orders/${paymentOrderId}`, headers: { 'x-api-key': API_KEY } })
    return response.statusCode === 200 ? (response.json() as { order_status: string }).order_status : null
  }

  it('an array of N: one inbox row per element with its exact bytes, one merge each, processed:true', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.constantFrom('', ' ', '\n  '), async (count, spacing) => {
      const elements = Array.from({ length: count }, () => envelope())
      const body = `[${spacing}${elements.map((element) => element.bytes).join(`,${spacing}`)}${spacing}]`
      const response = await post(body)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: true, message: Array(count).fill('applied').join(', ') })
      const bodyHash = sha256(body).toString('hex')
      for (const [index, element] of elements.entries()) {
        const row = await rowOf(element.bytes)
        expect(row).toMatchObject({ outcome: 'applied', reference: element.paymentOrderId })
        expect(row?.body.toString('utf8')).toBe(element.bytes)
        // The signature headers of the delivery are kept, and which element of which signed body this was.
        expect(row?.headers).toMatchObject({ 'txgw-nonce': expect.any(String), 'txgw-signature': expect.any(String) })
        expect(row?.headers['x-order-mirror-array-element']).toBe(`${index + 1}/${count} of sha256:${bodyHash}`)
        expect(await statusOf(element.paymentOrderId)).toBe('Paid')
      }
    }), propertyParameters(10))
  })

  it('an empty array: the body is stored as ignored, processed:true', async () => {
    const before = await inboxCount()
    const response = await post('[ ]')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ processed: true, message: 'ignored' })
    expect(await rowOf('[ ]')).toMatchObject({ outcome: 'ignored', error: 'body: an empty array carries no notification' })
    expect(await inboxCount()).toBe(before + 1)
  })

  it('the same element twice in one array is stored once; the second is a duplicate', async () => {
    const repeated = envelope()
    const other = envelope()
    const response = await post(`[${repeated.bytes},${other.bytes},${repeated.bytes}]`)
    expect(response.statusCode).toBe(200)
    const outcomes = (response.json() as { message: string }).message.split(', ')
    expect(outcomes).toHaveLength(3)
    expect(outcomes[1]).toBe('applied')
    expect([outcomes[0], outcomes[2]].sort()).toEqual(['applied', 'duplicate'])
    const { rows } = await database.db.pool.query('SELECT count(*)::int AS count FROM webhook_inbox WHERE reference = $1', [repeated.paymentOrderId])
    expect(rows[0].count).toBe(1)
  })

  it('a redelivered array dedupes per element, also when the elements come in another array', async () => {
    const first = envelope('Paid')
    const second = envelope('Paid')
    const body = `[${first.bytes},${second.bytes}]`
    expect((await post(body)).json()).toEqual({ processed: true, message: 'applied, applied' })
    const before = await inboxCount()
    expect((await post(body)).json()).toEqual({ processed: true, message: 'duplicate, duplicate' })
    expect(await inboxCount()).toBe(before)

    const later = envelope('Finished', first.paymentOrderId)
    const regrouped = `[${later.bytes.replace('2026-05-01T00:00:00Z"', '2026-05-02T00:00:00Z"')}, ${second.bytes}]`
    expect((await post(regrouped)).json()).toEqual({ processed: true, message: 'applied, duplicate' })
    expect(await statusOf(first.paymentOrderId)).toBe('Finished')
  })

  it('an array with one hostile element stores the others, applied, and the bad one as invalid, answering 400 naming it', async () => {
    await fc.assert(fc.asyncProperty(hostileJsonText, fc.integer({ min: 0, max: 2 }), async (hostile, position) => {
      const good = [envelope(), envelope()]
      const parts = good.map((element) => element.bytes)
      parts.splice(position, 0, hostile)
      const body = `[${parts.join(',')}]`
      if (Buffer.byteLength(body) > BODY_LIMIT) return
      const response = await post(body)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ processed: false, message: expect.stringMatching(new RegExp(`^element ${position + 1} of 3: body`)) })
      for (const element of good) {
        expect(await rowOf(element.bytes)).toMatchObject({ outcome: 'applied' })
        expect(await statusOf(element.paymentOrderId)).toBe('Paid')
      }
      expect(await rowOf(hostile)).toMatchObject({ outcome: 'invalid', error: expect.stringMatching(/^body/) })
    }), propertyParameters(25))
  })

  it('a nested array is not unwrapped: the inner array is one element, stored as invalid', async () => {
    const inner = envelope()
    const nested = `[${inner.bytes}]`
    const response = await post(`[${nested}]`)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({ processed: false, message: expect.stringMatching(/^element 1 of 1: body: /) })
    expect(await rowOf(nested)).toMatchObject({ outcome: 'invalid' })
    expect(await rowOf(inner.bytes)).toBeUndefined()
    expect(await statusOf(inner.paymentOrderId)).toBeNull()
  })

  it('an array over the body limit is refused with 413 and stores nothing', async () => {
    const elements: string[] = []
    while (elements.join(',').length <= BODY_LIMIT) elements.push(envelope().bytes)
    const before = await inboxCount()
    const response = await post(`[${elements.join(',')}]`)
    expect(response.statusCode).toBe(413)
    expect(response.json()).toEqual({ processed: false, message: expect.any(String) })
    expect(await inboxCount()).toBe(before)
  })

  it('counts each element under its own outcome', async () => {
    const counted = async (outcome: string) => {
      const metric = await app.metrics.webhooksTotal.get()
      return metric.values.find((value) => value.labels.provider === 'midasbuy' && value.labels.outcome === outcome)?.value ?? 0
    }
    const applied = await counted('applied')
    const invalid = await counted('invalid')
    await post(`[${envelope().bytes},${envelope().bytes},{}]`)
    expect(await counted('applied')).toBe(applied + 2)
    expect(await counted('invalid')).toBe(invalid + 1)
  })

  it('up to the cap every envelope is its own row and merge; past it the body is one invalid row, nothing merged, the same on redelivery', async () => {
    const sizes = fc.integer({ min: MAX_NOTIFICATION_ENVELOPES - 3, max: MAX_NOTIFICATION_ENVELOPES + 3 })
    await fc.assert(fc.asyncProperty(sizes, fc.constantFrom('', ' ', '\n  '), async (count, spacing) => {
      const { body, elements, ids } = arrayOf(count, spacing)
      expect(Buffer.byteLength(body)).toBeLessThan(BODY_LIMIT)
      const response = await post(body)
      if (count <= MAX_NOTIFICATION_ENVELOPES) {
        expect(response.statusCode).toBe(200)
        expect(response.json()).toEqual({ processed: true, message: Array(count).fill('applied').join(', ') })
        expect((await rowsOf(elements)).map((row) => row.outcome)).toEqual(Array(count).fill('applied'))
        expect(await rowsOf([body])).toEqual([])
        expect(await mirroredOrders(ids)).toBe(count)
        return
      }
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ processed: false, message: overTheCap(count) })
      const [whole, ...others] = await rowsOf([body])
      expect(others).toEqual([])
      expect(whole).toMatchObject({ outcome: 'invalid', error: overTheCap(count), delivery_count: 1, replay_count: 0 })
      expect(whole?.body.toString('utf8')).toBe(body)
      expect(await rowsOf(elements)).toEqual([])
      expect(await mirroredOrders(ids)).toBe(0)

      // MidasBuy pushes it again: refused again, still the one row, still nothing merged.
      const again = await post(body)
      expect([again.statusCode, again.json()]).toEqual([400, { processed: false, message: overTheCap(count) }])
      expect((await rowsOf([body])).map((row) => [row.outcome, row.delivery_count])).toEqual([['invalid', 2]])
      expect(await mirroredOrders(ids)).toBe(0)
    }), { ...propertyParameters(6), examples: [[MAX_NOTIFICATION_ENVELOPES, ''], [MAX_NOTIFICATION_ENVELOPES + 1, '']] })
  }, 120_000)

  it('a replayed over-long array is judged as it was live: still invalid for the limit, nothing merged', async () => {
    const { body, ids } = arrayOf(MAX_NOTIFICATION_ENVELOPES + 1)
    expect((await post(body)).statusCode).toBe(400)
    const ingest = app.webhookIngests.get('midasbuy')
    if (ingest === undefined) throw new Error('no MidasBuy ingestion is built')
    const [stored] = await rowsOf([body])
    await replayInbox(database.db, { midasbuy: (row) => ingest.replay(row) }, { outcome: 'invalid', provider: 'midasbuy' }, pino({ level: 'silent' }))
    expect((await rowsOf([body])).map((row) => [row.outcome, row.error, row.replay_count])).toEqual([['invalid', overTheCap(MAX_NOTIFICATION_ENVELOPES + 1), (stored?.replay_count ?? 0) + 1]])
    expect(await mirroredOrders(ids)).toBe(0)
  })
})
