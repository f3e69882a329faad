import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createDatabase } from '../../src/db/database.js'
import { signGameSoBody } from '../../src/providers/gameso/gameso-signature.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { gamesoProvider, gamesoWebhookVerifier } from '../../src/providers/gameso/index.js'
import { WebhookIngest } from '../../src/services/webhook-ingest.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { completedFixture, failedFixture, gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'

const URL_PATH = '/webhooks/gameso'

function expectError (response: { statusCode: number, json: () => unknown }, status: number, code: string) {
  expect(response.statusCode).toBe(status)
  expect(response.json()).toEqual({ status, code, message: expect.any(String) })
}

describe('POST /webhooks/gameso', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 })
    app = await buildApp(testConfig(database.url, {
      GAMESO_WEBHOOK_SECRETS: `previous-secret,${WEBHOOK_SECRET}`,
      WEBHOOK_BODY_LIMIT_BYTES: '4096'
    }), { db: database.db })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  function post (body: Buffer | string, headers: Record<string, string>) {
    return app.inject({ method: 'POST', url: URL_PATH, headers, payload: body })
  }

  async function counts () {
    const { rows } = await database.db.pool.query<{ inbox: string, orders: string, history: string }>(`
      SELECT (SELECT count(*) FROM webhook_inbox) AS inbox, (SELECT count(*) FROM orders) AS orders,
             (SELECT count(*) FROM order_status_history) AS history`)
    return rows[0]
  }

  async function order (reference: string) {
    const { rows } = await database.db.pool.query('SELECT * FROM orders WHERE provider = $1 AND reference = $2', ['gameso', reference])
    return rows[0]
  }

  async function inboxRows (reference: string) {
    const { rows } = await database.db.pool.query('SELECT * FROM webhook_inbox WHERE reference = $1 ORDER BY id', [reference])
    return rows
  }

  describe('the GameSO docs payloads, byte for byte', () => {
    let fixtureApp: FastifyInstance
    // The docs' payloads carry a timestamp from February 2026: check them with the tolerance off.
    beforeAll(async () => {
      fixtureApp = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS: '0' }), { db: database.db })
    })
    afterAll(async () => { await fixtureApp.close() })

    it.each([
      ['order.completed', completedFixture, 'ref_RLUFNUHGXXX', 'completed', null],
      ['order.failed', failedFixture, 'ref_xyz789', 'failed', 'ITEM_NOT_FOUND']
    ])('%s is applied and stored with its raw body', async (event, body, reference, status, failureCode) => {
      const response = await fixtureApp.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ received: true, outcome: 'applied' })

      expect(await order(reference)).toMatchObject({ status, failure_code: failureCode, is_final: true, last_source: 'webhook' })
      const [row] = await inboxRows(reference)
      expect(row).toMatchObject({ provider: 'gameso', outcome: 'applied', event_type: event, delivery_count: 1, error: null })
      expect(Buffer.compare(row.body, body)).toBe(0)
      expect(row.headers).toMatchObject({ 'content-type': 'application/json', 'x-gameso-signature': signGameSoBody(body, WEBHOOK_SECRET) })
      expect(row.order_id).toBe((await order(reference)).id)
      const history = await database.db.pool.query('SELECT * FROM order_status_history WHERE inbox_id = $1', [row.id])
      expect(history.rows).toMatchObject([{ from_status: null, to_status: status, source: 'webhook' }])
    })
  })

  it('accepts a signature made with any configured secret, in hex or base64', async () => {
    const body = webhookBody(gamesoOrder('ref-rotation', 'pending', '2026-05-01T00:00:00.000Z'))
    const base64 = Buffer.from(signGameSoBody(body, 'previous-secret'), 'hex').toString('base64')
    const response = await post(body, { 'content-type': 'application/json; charset=utf-8', 'x-gameso-signature': `sha256=${base64}` })
    expect(response.json()).toEqual({ received: true, outcome: 'applied' })
  })

  it('answers duplicate for the same bytes again and writes nothing to orders', async () => {
    const body = webhookBody(gamesoOrder('ref-dup', 'processing', '2026-05-01T00:00:01.000Z'))
    expect((await post(body, signedHeaders(body))).json()).toEqual({ received: true, outcome: 'applied' })
    const before = { order: await order('ref-dup'), counts: await counts() }

    const again = await post(body, signedHeaders(body))
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ received: true, outcome: 'duplicate' })
    expect(await order('ref-dup')).toEqual(before.order)
    expect(await counts()).toEqual(before.counts)
    expect(await inboxRows('ref-dup')).toMatchObject([{ outcome: 'applied', delivery_count: 2 }])
  })

  it('answers duplicate for other bytes carrying the same snapshot', async () => {
    const data = gamesoOrder('ref-same-snapshot', 'processing', '2026-05-01T00:00:01.000Z')
    const first = webhookBody(data, { event: 'order.processing' })
    await post(first, signedHeaders(first))
    const other = webhookBody(data, { event: 'order.updated' })
    const response = await post(other, signedHeaders(other))
    expect(response.json()).toEqual({ received: true, outcome: 'duplicate' })
    expect((await inboxRows('ref-same-snapshot')).map((row) => row.outcome)).toEqual(['applied', 'duplicate'])
  })

  it('answers stale for an older snapshot, keeps it in the inbox and leaves the order alone', async () => {
    const newer = webhookBody(gamesoOrder('ref-stale', 'completed', '2026-05-01T00:00:05.000Z', { itemCount: 2 }))
    const older = webhookBody(gamesoOrder('ref-stale', 'processing', '2026-05-01T00:00:03.000Z'))
    expect((await post(newer, signedHeaders(newer))).json()).toMatchObject({ outcome: 'applied' })
    const before = await order('ref-stale')
    const response = await post(older, signedHeaders(older))
    expect(response.json()).toEqual({ received: true, outcome: 'stale' })
    expect(await order('ref-stale')).toEqual(before)
    const items = await database.db.pool.query('SELECT count(*)::int AS n FROM order_items WHERE order_id = $1', [before.id])
    expect(items.rows[0].n).toBe(2)
    expect((await inboxRows('ref-stale')).map((row) => row.outcome)).toEqual(['applied', 'stale'])
  })

  it('records a tie that disagrees as stale and asks for an upstream re-fetch', async () => {
    const first = webhookBody(gamesoOrder('ref-tie', 'completed', '2026-05-01T00:00:05.000Z'))
    const second = webhookBody(gamesoOrder('ref-tie', 'failed', '2026-05-01T00:00:05.000Z'))
    await post(first, signedHeaders(first))
    const response = await post(second, signedHeaders(second))
    expect(response.json()).toEqual({ received: true, outcome: 'stale' })
    expect(await order('ref-tie')).toMatchObject({ status: 'completed', refetch_requested: true, reconcile_state: 'active' })
    expect((await inboxRows('ref-tie'))[1]).toMatchObject({ outcome: 'stale', error: expect.stringContaining('re-fetch') })
  })

  it('ignores an event that is not about an order, but stores it', async () => {
    const body = webhookBody({ reference_id: 'ref-ping' }, { event: 'merchant.ping' })
    const before = await counts()
    const response = await post(body, signedHeaders(body))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ received: true, outcome: 'ignored' })
    expect(await inboxRows('ref-ping')).toMatchObject([{ outcome: 'ignored', event_type: 'merchant.ping' }])
    expect((await counts())?.orders).toBe(before?.orders)
    const again = await post(body, signedHeaders(body))
    expect(again.json()).toEqual({ received: true, outcome: 'duplicate' })
  })

  it('refuses a signed payload that fails the schema with 400 naming the fields, and keeps it as invalid', async () => {
    const data = { ...gamesoOrder('ref-invalid', 'completed', '2026-05-01T00:00:05.000Z'), status: 'shipped', total_amount: 12.5 }
    const body = webhookBody(data, { event: 'order.completed' })
    const before = await counts()
    const response = await post(body, signedHeaders(body))
    expectError(response, 400, 'VALIDATION_ERROR')
    const { message } = response.json()
    expect(message).toContain('body.data.status')
    expect(message).toContain('body.data.total_amount')
    const rows = await inboxRows('ref-invalid')
    expect(rows).toMatchObject([{ outcome: 'invalid', event_type: 'order.completed', order_id: null }])
    expect(rows[0].error).toBe(message)
    expect(Buffer.compare(rows[0].body, body)).toBe(0)
    expect((await counts())?.orders).toBe(before?.orders)

    // The sender retries a 400: the same invalid bytes are judged again, not acknowledged.
    expectError(await post(body, signedHeaders(body)), 400, 'VALIDATION_ERROR')
    expect(await inboxRows('ref-invalid')).toMatchObject([{ outcome: 'invalid', delivery_count: 2 }])
  })

  it.each([
    ['a JSON array', '[]', 'body: '],
    ['a missing timestamp', JSON.stringify({ event: 'order.completed', data: {} }), 'body.timestamp'],
    ['an order without items', null, 'body.data.items']
  ])('refuses an envelope with %s as VALIDATION_ERROR', async (name, raw, field) => {
    const body = Buffer.from(raw ?? JSON.stringify({ event: 'order.completed', timestamp: Math.floor(Date.now() / 1000), data: { ...gamesoOrder(`ref-env-${name}`, 'pending', '2026-05-01T00:00:00.000Z'), items: [] } }))
    const response = await post(body, signedHeaders(body))
    expectError(response, 400, 'VALIDATION_ERROR')
    expect(response.json().message).toContain(field)
    const stored = await database.db.pool.query('SELECT outcome FROM webhook_inbox WHERE body_sha256 = sha256($1)', [body])
    expect(stored.rows).toEqual([{ outcome: 'invalid' }])
  })

  describe('refusals store nothing and leave the service healthy', () => {
    const now = () => Math.floor(Date.now() / 1000)
    const valid = () => webhookBody(gamesoOrder('ref-refused', 'completed', '2026-05-01T00:00:00.000Z'))
    const tampered = () => {
      const body = valid()
      const headers = signedHeaders(body)
      return { body: Buffer.from(body.toString().replace('"101.00"', '"999.00"')), headers }
    }
    const cases: Array<[string, number, string, string | null, () => { body: Buffer | string, headers: Record<string, string> }]> = [
      ['a missing signature', 401, 'INVALID_SIGNATURE', 'missing', () => ({ body: valid(), headers: { 'content-type': 'application/json' } })],
      ['a signature made with another secret', 401, 'INVALID_SIGNATURE', 'mismatch', () => { const body = valid(); return { body, headers: signedHeaders(body, 'not-our-secret') } }],
      ['a signature that is not a digest', 401, 'INVALID_SIGNATURE', 'malformed', () => ({ body: valid(), headers: { 'content-type': 'application/json', 'x-gameso-signature': 'sha256=hello' } })],
      ['a tampered body', 401, 'INVALID_SIGNATURE', 'mismatch', tampered],
      ['a timestamp two hours old', 401, 'TIMESTAMP_OUT_OF_TOLERANCE', 'timestamp', () => { const body = webhookBody(gamesoOrder('ref-refused', 'completed', '2026-05-01T00:00:00.000Z'), { timestamp: now() - 7200 }); return { body, headers: signedHeaders(body) } }],
      ['a timestamp two hours ahead', 401, 'TIMESTAMP_OUT_OF_TOLERANCE', 'timestamp', () => { const body = webhookBody(gamesoOrder('ref-refused', 'completed', '2026-05-01T00:00:00.000Z'), { timestamp: now() + 7200 }); return { body, headers: signedHeaders(body) } }],
      ['a signed body that is not JSON', 400, 'BAD_REQUEST', null, () => { const body = Buffer.from('{"event": "order.completed", '); return { body, headers: signedHeaders(body) } }],
      ['an empty signed body', 400, 'BAD_REQUEST', null, () => { const body = Buffer.alloc(0); return { body, headers: signedHeaders(body) } }],
      ['a wrong content type', 415, 'UNSUPPORTED_MEDIA_TYPE', null, () => { const body = valid(); return { body, headers: { ...signedHeaders(body), 'content-type': 'text/plain' } } }],
      ['a form body', 415, 'UNSUPPORTED_MEDIA_TYPE', null, () => { const body = Buffer.from('event=order.completed'); return { body, headers: { ...signedHeaders(body), 'content-type': 'application/x-www-form-urlencoded' } } }],
      ['a body over the limit', 413, 'PAYLOAD_TOO_LARGE', null, () => { const body = webhookBody({ padding: 'x'.repeat(5000) }); return { body, headers: signedHeaders(body) } }]
    ]

    it.each(cases)('%s → %i %s', async (_name, status, code, reason, build) => {
      const before = await counts()
      const failures = async () => (await app.metrics.webhookSignatureFailuresTotal.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0
      const failuresBefore = await failures()
      const { body, headers } = build()
      const response = await post(body, headers)
      expectError(response, status, code)
      expect(response.body).not.toContain(WEBHOOK_SECRET)
      expect(await counts()).toEqual(before)
      if (reason !== null) expect(await failures()).toBe(failuresBefore + 1)
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(ready.statusCode).toBe(200)
    })
  })

  it('counts outcomes, signature failures and ingest latency on /metrics', async () => {
    const body = webhookBody(gamesoOrder('ref-metrics', 'pending', '2026-05-01T00:00:00.000Z'))
    const invalid = webhookBody({ ...gamesoOrder('ref-metrics-invalid', 'pending', '2026-05-01T00:00:00.000Z'), items: [] })
    expect((await post(body, signedHeaders(body))).json()).toEqual({ received: true, outcome: 'applied' })
    expect((await post(body, signedHeaders(body))).json()).toEqual({ received: true, outcome: 'duplicate' })
    expect((await post(invalid, signedHeaders(invalid))).statusCode).toBe(400)
    expect((await post(body, { 'content-type': 'application/json' })).statusCode).toBe(401)
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(text).toMatch(/order_mirror_webhooks_total\{provider="gameso",outcome="applied"\} [1-9]/)
    expect(text).toMatch(/order_mirror_webhooks_total\{provider="gameso",outcome="duplicate"\} [1-9]/)
    expect(text).toMatch(/order_mirror_webhooks_total\{provider="gameso",outcome="invalid"\} [1-9]/)
    expect(text).toMatch(/order_mirror_webhooks_total\{provider="gameso",outcome="rejected"\} [1-9]/)
    expect(text).toMatch(/order_mirror_webhook_signature_failures_total\{provider="gameso",reason="missing"\} [1-9]/)
    expect(text).toMatch(/order_mirror_webhook_ingest_seconds_count\{provider="gameso"\} [1-9]/)
  })

  it('reports the last webhook received on /health/ready', async () => {
    const delivered = webhookBody(gamesoOrder('ref-last-received', 'pending', '2026-05-01T00:00:00.000Z'))
    expect((await post(delivered, signedHeaders(delivered))).statusCode).toBe(200)
    const body = (await app.inject({ method: 'GET', url: '/health/ready' })).json()
    expect(body.checks.webhooks.lastReceivedAt.gameso).toEqual(expect.any(String))
  })

  it('ends in the newest state when 50 deliveries for one order arrive at once, in any order', async () => {
    const base = Date.parse('2026-06-01T00:00:00.000Z')
    const bodies = Array.from({ length: 50 }, (_unused, index) => {
      const status = index < 20 ? 'pending' : index < 49 ? 'processing' : 'completed'
      return webhookBody(gamesoOrder('ref-burst', status, new Date(base + index * 1000), { itemCount: 1 + (index % 3) }))
    })
    // One arrival order, drawn from the suite's seed (test/setup/seed.ts); a failure prints the seed.
    // No shrinking: a second run would meet the rows of the first.
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(bodies, { minLength: bodies.length }), async (arrival) => {
      const responses = await Promise.all(arrival.map((body) => post(body, signedHeaders(body))))
      expect(responses.map((response) => response.statusCode)).toEqual(bodies.map(() => 200))
      const stored = await order('ref-burst')
      expect(stored).toMatchObject({ status: 'completed' })
      expect(stored.upstream_updated_at.toISOString()).toBe(new Date(base + 49_000).toISOString())
      const items = await database.db.pool.query('SELECT count(*)::int AS n FROM order_items WHERE order_id = $1', [stored.id])
      expect(items.rows[0].n).toBe(1 + (49 % 3))
      const inbox = await inboxRows('ref-burst')
      expect(inbox).toHaveLength(50)
      expect(inbox.filter((row) => row.outcome === 'applied').length).toBeGreaterThanOrEqual(1)
      expect(inbox.every((row) => row.outcome === 'applied' || row.outcome === 'stale')).toBe(true)
      const history = await database.db.pool.query('SELECT to_status, upstream_updated_at FROM order_status_history WHERE order_id = $1 ORDER BY id', [stored.id])
      const clocks = history.rows.map((row) => row.upstream_updated_at.getTime())
      expect(clocks).toEqual([...clocks].sort((a, b) => a - b))
      expect(history.rows.at(-1)).toMatchObject({ to_status: 'completed' })
    }), { numRuns: 1, endOnFailure: true })
  })
})

describe('the timestamp tolerance, on a pinned clock', () => {
  it('accepts a timestamp exactly at the tolerance, refuses one second more either way, and 0 turns the check off', async () => {
    const database = await createTestDatabase({ poolSize: 2 })
    const now = Date.parse('2026-11-27T12:00:00.000Z')
    const ingestWith = (toleranceSeconds: number) => new WebhookIngest(new OrderSync(database.db, 60_000), gamesoProvider, {
      verifier: gamesoWebhookVerifier({ secrets: [WEBHOOK_SECRET], signatureHeader: 'x-gameso-signature' }), toleranceSeconds, now: () => now
    })
    const delivery = (reference: string, offsetSeconds: number) => {
      const body = webhookBody(gamesoOrder(reference, 'pending', '2026-05-01T00:00:00.000Z'), { timestamp: now / 1000 + offsetSeconds })
      return [body, signedHeaders(body)] as const
    }
    try {
      const ingest = ingestWith(300)
      expect(await ingest.ingest(...delivery('ref-edge-past', -300))).toMatchObject({ outcome: 'applied' })
      expect(await ingest.ingest(...delivery('ref-edge-future', 300))).toMatchObject({ outcome: 'applied' })
      await expect(ingest.ingest(...delivery('ref-too-old', -301))).rejects.toMatchObject({ statusCode: 401, code: 'TIMESTAMP_OUT_OF_TOLERANCE', reason: 'timestamp' })
      await expect(ingest.ingest(...delivery('ref-too-new', 301))).rejects.toMatchObject({ statusCode: 401, code: 'TIMESTAMP_OUT_OF_TOLERANCE' })
      expect(await ingestWith(0).ingest(...delivery('ref-any-time', -10 * 365 * 86_400))).toMatchObject({ outcome: 'applied' })
      const { rows } = await database.db.pool.query('SELECT reference FROM orders ORDER BY reference')
      expect(rows.map((row) => row.reference)).toEqual(['ref-any-time', 'ref-edge-future', 'ref-edge-past'])
    } finally {
      await database.drop()
    }
  })
})

describe('POST /webhooks/gameso with a configured signature header', () => {
  it('reads the signature from GAMESO_SIGNATURE_HEADER, whatever its case, and nowhere else', async () => {
    const database = await createTestDatabase({ poolSize: 2 })
    const app = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, GAMESO_SIGNATURE_HEADER: 'X-Hub-Signature-256' }), { db: database.db })
    try {
      const body = webhookBody(gamesoOrder('ref-custom-header', 'pending', '2026-05-01T00:00:00.000Z'))
      const usual = await app.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expectError(usual, 401, 'INVALID_SIGNATURE')
      const custom = await app.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body, WEBHOOK_SECRET, 'X-Hub-Signature-256'), payload: body })
      expect(custom.json()).toEqual({ received: true, outcome: 'applied' })
      const { rows } = await database.db.pool.query('SELECT headers FROM webhook_inbox')
      expect(rows).toEqual([{ headers: expect.objectContaining({ 'x-hub-signature-256': signGameSoBody(body, WEBHOOK_SECRET) }) }])
    } finally {
      await app.close()
      await database.drop()
    }
  })
})

describe('POST /webhooks/gameso without a secret or a database', () => {
  it('answers 503 WEBHOOK_NOT_CONFIGURED when no secret is configured', async () => {
    const database = await createTestDatabase({ poolSize: 1 })
    const app = await buildApp(testConfig(database.url), { db: database.db })
    try {
      const body = webhookBody(gamesoOrder('ref-unconfigured', 'pending', '2026-05-01T00:00:00.000Z'))
      const response = await app.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expectError(response, 503, 'WEBHOOK_NOT_CONFIGURED')
      const inbox = await database.db.pool.query('SELECT count(*)::int AS n FROM webhook_inbox')
      expect(inbox.rows[0].n).toBe(0)
    } finally {
      await app.close()
      await database.drop()
    }
  })

  it('answers 503 UNAVAILABLE, acknowledging nothing, when the database cannot be reached', async () => {
    const url = 'postgresql://postgres@127.0.0.1:1/none'
    const db = createDatabase(url, { connectionTimeoutMs: 500 })
    const app = await buildApp(testConfig(url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET }), { db })
    try {
      const body = webhookBody(gamesoOrder('ref-db-down', 'pending', '2026-05-01T00:00:00.000Z'))
      const response = await app.inject({ method: 'POST', url: URL_PATH, headers: signedHeaders(body), payload: body })
      expectError(response, 503, 'UNAVAILABLE')
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/order_mirror_webhooks_total\{provider="gameso",outcome="unavailable"\} 1/)
    } finally {
      await app.close()
      await db.close()
    }
  })
})
