import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { replayInbox } from '../../src/services/inbox-replay.js'
import { OrderSync } from '../../src/services/order-sync.js'
import { gamesoProvider, gamesoWebhookVerifier } from '../../src/providers/gameso/index.js'
import { WebhookIngest } from '../../src/services/webhook-ingest.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { inboxRow, orderStatus, storedEarlier } from '../helpers/inbox.js'

const silent = pino({ level: 'silent' })

describe('inbox replay', () => {
  let database: TestDatabase
  let app: FastifyInstance
  let ingest: WebhookIngest

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url, { GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET }), { db: database.db })
    ingest = new WebhookIngest(new OrderSync(database.db, 60_000), gamesoProvider, { verifier: gamesoWebhookVerifier({ secrets: [WEBHOOK_SECRET], signatureHeader: 'x-gameso-signature' }), toleranceSeconds: 3600 })
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('applies a row stored as invalid once the payload is accepted, through the live path', async () => {
    const body = webhookBody(gamesoOrder('ref-replay-fixed', 'completed', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(database.db, body, 'invalid', 'ref-replay-fixed')

    const summary = await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid', provider: 'gameso' }, silent)
    expect(summary.outcomes.applied).toBeGreaterThanOrEqual(1)

    const order = await orderStatus(database.db, 'ref-replay-fixed')
    expect(order).toMatchObject({ status: 'completed' })
    expect(await inboxRow(database.db, id)).toEqual({ outcome: 'applied', error: null, order_id: order.id, replay_count: 1, delivery_count: 1 })
    const history = await database.db.pool.query('SELECT source, inbox_id FROM order_status_history WHERE order_id = $1', [order.id])
    expect(history.rows).toEqual([{ source: 'webhook', inbox_id: id }])
  })

  it('leaves a row that is still invalid as invalid, with its current reason', async () => {
    const body = webhookBody({ reference_id: 'ref-replay-broken', status: 'completed' })
    const id = await storedEarlier(database.db, body, 'invalid', 'ref-replay-broken')
    await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid' }, silent)
    const row = await inboxRow(database.db, id)
    expect(row).toMatchObject({ outcome: 'invalid', order_id: null, replay_count: 1 })
    expect(row.error).toContain('body.data.order_number')
    expect(await orderStatus(database.db, 'ref-replay-broken')).toBeUndefined()
  })

  it('records stale when the order moved on while the row waited', async () => {
    const newer = webhookBody(gamesoOrder('ref-replay-late', 'completed', '2026-08-01T00:00:09.000Z'))
    await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(newer), payload: newer })
    const id = await storedEarlier(database.db, webhookBody(gamesoOrder('ref-replay-late', 'processing', '2026-08-01T00:00:01.000Z')), 'invalid', 'ref-replay-late')
    await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'invalid' }, silent)
    expect(await inboxRow(database.db, id)).toMatchObject({ outcome: 'stale', replay_count: 1 })
    expect(await orderStatus(database.db, 'ref-replay-late')).toMatchObject({ status: 'completed' })
  })

  it('applies a redelivery of bytes stored as invalid instead of calling it a duplicate', async () => {
    const body = webhookBody(gamesoOrder('ref-redelivered-fixed', 'processing', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(database.db, body, 'invalid', 'ref-redelivered-fixed')
    const response = await app.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body), payload: body })
    expect(response.json()).toEqual({ received: true, outcome: 'applied' })
    expect(await inboxRow(database.db, id)).toMatchObject({ outcome: 'applied', error: null, delivery_count: 2 })
    expect(await orderStatus(database.db, 'ref-redelivered-fixed')).toMatchObject({ status: 'processing' })
  })

  it('skips rows of a provider without a replayer and changes nothing on a dry run', async () => {
    const body = webhookBody(gamesoOrder('ref-dry-run', 'processing', '2026-08-01T00:00:00.000Z'))
    const id = await storedEarlier(database.db, body, 'ignored', 'ref-dry-run')
    const dry = await replayInbox(database.db, { gameso: (row) => ingest.replay(row) }, { outcome: 'ignored' }, silent, { dryRun: true })
    expect(dry).toMatchObject({ examined: 1, outcomes: {}, skipped: 0 })
    const none = await replayInbox(database.db, {}, { outcome: 'ignored' }, silent)
    expect(none).toMatchObject({ examined: 1, skipped: 1 })
    expect(await inboxRow(database.db, id)).toMatchObject({ outcome: 'ignored', replay_count: 0 })
    expect(await orderStatus(database.db, 'ref-dry-run')).toBeUndefined()
  })
})
