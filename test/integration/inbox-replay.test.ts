import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import type { InboxOutcome } from '../../src/repositories/inbox-repository.js'
import { replayInbox } from '../../src/services/inbox-replay.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { GameSoWebhookIngest } from '../../src/services/webhook-ingest.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { storeInboxRow } from '../helpers/inbox.js'
import { gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'

const run = promisify(execFile)
const REPLAY_CLI = fileURLToPath(new URL('../../dist/cli/inbox-replay.js', import.meta.url))
const silent = pino({ level: 'silent' })

describe('inbox replay', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let ingest: GameSoWebhookIngest

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET }), { db: database.db })
    ingest = new GameSoWebhookIngest(new OrderSync(database.db, 60_000), { secrets: [WEBHOOK_SECRET], signatureHeader: 'x-gameso-signature', toleranceSeconds: 3600 })
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  /**
   * A delivery an earlier release stored with `outcome` (say, refused as invalid by a schema bug):
   * the bytes are what GameSO signed, the outcome is what that release decided.
   */
  async function storedEarlier (body: Buffer, outcome: InboxOutcome, reference: string | null) {
    const stored = await storeInboxRow(database.db.pool, {
      provider: 'gameso',
      body,
      bodySha256: createHash('sha256').update(body).digest(),
      headers: { 'content-type': 'application/json' },
      eventType: 'order.completed',
      reference
    }, outcome, outcome === 'invalid' ? 'body.data.items.0.sku: rejected by an old schema' : null)
    return stored.id
  }

  async function inboxRow (id: string) {
    const { rows } = await database.db.pool.query('SELECT outcome, error, order_id, replay_count, delivery_count FROM webhook_inbox WHERE id = $1', [id])
    return rows[0]
  }

  async function orderStatus (reference: string) {
    const { rows } = await database.db.pool.query('SELECT id, status FROM orders WHERE reference = $1', [reference])
    return rows[0]
  }

  it('applies a row stored as invalid once the payload is accepted, through the live path', async () => {
    const body = webhookBody(gamesoOrder('ref-replay-fixed', 'completed', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(body, 'invalid', 'ref-replay-fixed')

    const summary = await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid', provider: 'gameso' }, silent)
    expect(summary.outcomes.applied).toBeGreaterThanOrEqual(1)

    const order = await orderStatus('ref-replay-fixed')
    expect(order).toMatchObject({ status: 'completed' })
    expect(await inboxRow(id)).toEqual({ outcome: 'applied', error: null, order_id: order.id, replay_count: 1, delivery_count: 1 })
    const history = await database.db.pool.query('SELECT source, inbox_id FROM order_status_history WHERE order_id = $1', [order.id])
    expect(history.rows).toEqual([{ source: 'webhook', inbox_id: id }])
  })

  it('leaves a row that is still invalid as invalid, with its current reason', async () => {
    const body = webhookBody({ reference_id: 'ref-replay-broken', status: 'completed' })
    const id = await storedEarlier(body, 'invalid', 'ref-replay-broken')
    await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid' }, silent)
    const row = await inboxRow(id)
    expect(row).toMatchObject({ outcome: 'invalid', order_id: null, replay_count: 1 })
    expect(row.error).toContain('body.data.order_number')
    expect(await orderStatus('ref-replay-broken')).toBeUndefined()
  })

  it('records stale when the order moved on while the row waited', async () => {
    const newer = webhookBody(gamesoOrder('ref-replay-late', 'completed', '2026-08-01T00:00:09.000Z'))
    await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(newer), payload: newer })
    const id = await storedEarlier(webhookBody(gamesoOrder('ref-replay-late', 'processing', '2026-08-01T00:00:01.000Z')), 'invalid', 'ref-replay-late')
    await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid' }, silent)
    expect(await inboxRow(id)).toMatchObject({ outcome: 'stale', replay_count: 1 })
    expect(await orderStatus('ref-replay-late')).toMatchObject({ status: 'completed' })
  })

  it('applies a redelivery of bytes stored as invalid instead of calling it a duplicate', async () => {
    const body = webhookBody(gamesoOrder('ref-redelivered-fixed', 'processing', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(body, 'invalid', 'ref-redelivered-fixed')
    const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body), payload: body })
    expect(response.json()).toEqual({ received: true, outcome: 'applied' })
    expect(await inboxRow(id)).toMatchObject({ outcome: 'applied', error: null, delivery_count: 2 })
    expect(await orderStatus('ref-redelivered-fixed')).toMatchObject({ status: 'processing' })
  })

  it('skips rows of a provider without a replayer and changes nothing on a dry run', async () => {
    const body = webhookBody(gamesoOrder('ref-dry-run', 'processing', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(body, 'ignored', 'ref-dry-run')
    const dry = await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'ignored' }, silent, { dryRun: true })
    expect(dry).toMatchObject({ examined: 1, outcomes: {}, skipped: 0 })
    const none = await replayInbox(database.db, {}, { outcome: 'ignored' }, silent)
    expect(none).toMatchObject({ examined: 1, skipped: 1 })
    expect(await inboxRow(id)).toMatchObject({ outcome: 'ignored', replay_count: 0 })
    expect(await orderStatus('ref-dry-run')).toBeUndefined()
  })

  describe('npm run inbox:replay (the built CLI as a process)', () => {
    const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: database.url, LOG_LEVEL: 'info' })
    // Outside the repository, so a developer's .env cannot point the CLI at another database.
    const cwd = os.tmpdir()

    it('replays invalid rows received since a time, and only those', async () => {
      const old = await storedEarlier(webhookBody(gamesoOrder('ref-cli-old', 'pending', '2026-08-01T00:00:00.000Z')), 'invalid', 'ref-cli-old')
      await database.db.pool.query("UPDATE webhook_inbox SET received_at = now() - interval '3 days' WHERE id = $1", [old])
      const recent = await storedEarlier(webhookBody(gamesoOrder('ref-cli-new', 'pending', '2026-08-01T00:00:00.000Z')), 'invalid', 'ref-cli-new')
      const since = new Date(Date.now() - 86_400_000).toISOString()

      const { stdout } = await run(process.execPath, [REPLAY_CLI, '--outcome', 'invalid', '--since', since], { env: env(), cwd })
      const summary = stdout.trim().split('\n').map((line) => JSON.parse(line)).find((line) => line.msg === 'inbox replay finished')
      expect(summary).toMatchObject({ outcome: 'invalid', outcomes: { applied: 1 } })
      expect(await inboxRow(recent)).toMatchObject({ outcome: 'applied', replay_count: 1 })
      expect(await inboxRow(old)).toMatchObject({ outcome: 'invalid', replay_count: 0 })
    })

    it.each([
      [['--outcome', 'applied'], /--outcome must be one of invalid, ignored, stale/],
      [['--since', 'yesterday'], /--since must be an ISO-8601 time/],
      [['--provider', 'steam'], /--provider must be one of gameso, midasbuy/],
      [['--colour', 'blue'], /Unknown option '--colour'/]
    ])('refuses %j with exit code 2 and the usage', async (args, message) => {
      const failure = await run(process.execPath, [REPLAY_CLI, ...args], { env: env(), cwd }).then(() => null, (error: { code: number, stderr: string }) => error)
      expect(failure?.code).toBe(2)
      expect(failure?.stderr).toMatch(message)
      expect(failure?.stderr).toContain('usage: npm run inbox:replay')
    })
  })
})
