// GameSO webhook ingestion under load (issue 3): signed `POST /webhooks/gameso` deliveries against
//   - distinct orders of 2 items each, and
//   - one hot order (every delivery a newer snapshot of the same order),
// each compared in alternating rounds with a bare Fastify route that runs ONE raw pg
// `INSERT … ON CONFLICT DO UPDATE` of the same order row into the same `orders` table (random keys,
// or the one hot key), and once with a Fastify no-op route that parses the same bodies.
// Afterwards the service's database is checked: every acknowledged webhook is in the inbox and its
// order is there with both items (distinct), or the order holds the newest delivered snapshot (hot).
import type pg from 'pg'
import { signGameSoBody } from '../src/providers/gameso/gameso-signature.js'
import {
  moduleExport,
  noopBaseline,
  type BaselineRoutes,
  type BenchContext,
  type RequestBuilderFactory,
  type ResultRow
} from './lib/harness.js'

const SECRET = 'bench-webhook-secret'
const HOT_REFERENCE = 'bench-hot'
const DISTINCT_PREFIX = 'bench-distinct-'
const TARGETS = { ratio: 0.5, distinctP99Ms: 50 }
const CLOCK_START_MS = Date.parse('2026-11-01T00:00:00.000Z')

interface WebhookLoad {
  mode: 'distinct' | 'hot'
  path: string
}

/** A GameSO `order.processing` delivery in the docs' shape, 2 items, clock advancing with `index`. */
function webhookBody (reference: string, index: number): string {
  const updatedAt = new Date(CLOCK_START_MS + index).toISOString()
  const item = (sku: string) => ({
    sku,
    quantity: 1,
    completed_quantity: 0,
    failed_quantity: 0,
    subtotal_amount: '101.00',
    discount_amount: '0.00',
    total_amount: '101.00',
    status: 'processing',
    failure_code: null,
    failure_message: null
  })
  return JSON.stringify({
    event: 'order.processing',
    timestamp: Math.floor(Date.now() / 1000),
    data: {
      order_number: `ord_${reference}`,
      reference_id: reference,
      user_id: `user_${index % 1000}`,
      server_id: null,
      character_id: null,
      status: 'processing',
      failure_code: null,
      failure_message: null,
      subtotal_amount: '202.00',
      discount_amount: '0.00',
      total_amount: '202.00',
      created_at: new Date(CLOCK_START_MS).toISOString(),
      updated_at: updatedAt,
      source_type: 'api',
      created_by: { id: 0, name: 'API' },
      completed_at: null,
      items: [item('ROMC-Z-1800K'), item('DIAMOND_100')]
    }
  })
}

/** Request N, signed over the exact bytes sent. Runs in the load process. */
export const signedWebhooks: RequestBuilderFactory<WebhookLoad> = ({ mode, path }) => (index) => {
  const body = webhookBody(mode === 'hot' ? HOT_REFERENCE : `${DISTINCT_PREFIX}${index}`, index)
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'x-gameso-signature': signGameSoBody(body, SECRET) },
    body
  }
}

const RAW_UPSERT = `
  INSERT INTO orders (provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
    user_id, currency, subtotal_amount, discount_amount, total_amount, upstream_created_at, upstream_updated_at, last_source)
  VALUES ('gameso', $1, $2, $3, $3, 2, false, $4, 'THB', $5, $6, $7, $8, $9, 'webhook')
  ON CONFLICT (provider, reference) DO UPDATE SET
    status = EXCLUDED.status, provider_status = EXCLUDED.provider_status, total_amount = EXCLUDED.total_amount,
    upstream_updated_at = EXCLUDED.upstream_updated_at, updated_at = now()`

interface GameSoDelivery {
  data: {
    reference_id: string
    order_number: string
    status: string
    user_id: string
    subtotal_amount: string
    discount_amount: string
    total_amount: string
    created_at: string
    updated_at: string
  }
}

/** The floor: Fastify parses the JSON, one raw pg upsert of the order row, 200. */
export const rawUpsertRoutes: BaselineRoutes = (app, { pool }) => {
  const db: pg.Pool = pool()
  app.post<{ Body: GameSoDelivery }>('/raw-upsert', async (request) => {
    const order = request.body.data
    await db.query(RAW_UPSERT, [order.reference_id, order.order_number, order.status, order.user_id,
      order.subtotal_amount, order.discount_amount, order.total_amount, order.created_at, order.updated_at])
    return { received: true }
  })
}

export default async function run (ctx: BenchContext): Promise<ResultRow[]> {
  const baselineDb = await ctx.createDatabase('raw_upsert')
  const upsert = await ctx.startBaseline({ routes: moduleExport(import.meta.url, 'rawUpsertRoutes'), database: baselineDb })
  const service = await ctx.startService({ env: { GAMESO_WEBHOOK_SECRETS: SECRET, RECONCILE_ENABLED: 'false' } })
  const load = (mode: WebhookLoad['mode'], path: string) => moduleExport(import.meta.url, 'signedWebhooks', { mode, path })

  ctx.log('distinct orders')
  const distinct = await ctx.compare({
    baseline: { name: 'raw pg upsert, random keys', url: upsert.url, builder: load('distinct', '/raw-upsert') },
    measured: { url: service.url, builder: load('distinct', '/webhooks/gameso') }
  })
  ctx.log('one hot order')
  const hot = await ctx.compare({
    baseline: { name: 'raw pg upsert, one hot key', url: upsert.url, builder: load('hot', '/raw-upsert') },
    measured: { url: service.url, builder: load('hot', '/webhooks/gameso') }
  })
  await service.stop()
  await upsert.stop()

  ctx.log('no-op ceiling')
  const noop = await ctx.startBaseline({ routes: noopBaseline })
  const ceiling = await ctx.autocannon({ url: noop.url, builder: load('distinct', '/noop') })
  await noop.stop()

  const db = ctx.database.pool
  const distinctAcknowledged = distinct.measured.responses2xx + distinct.measured.warmup.responses2xx
  const { rows: [distinctRows] } = await db.query<{ orders: string, complete: string, inbox: string }>(`
    SELECT count(*) AS orders,
           count(*) FILTER (WHERE (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) = 2) AS complete,
           (SELECT count(*) FROM webhook_inbox WHERE reference LIKE $1 || '%' AND outcome = 'applied') AS inbox
      FROM orders o WHERE o.provider = 'gameso' AND o.reference LIKE $1 || '%'`, [DISTINCT_PREFIX])
  const verifiedOrders = Number(distinctRows?.complete ?? 0)
  // Requests still in flight when a run ended may be stored without having been counted.
  const distinctStored = verifiedOrders >= distinctAcknowledged && Number(distinctRows?.inbox ?? 0) >= distinctAcknowledged

  const hotAcknowledged = hot.measured.responses2xx + hot.measured.warmup.responses2xx
  const { rows: [hotRow] } = await db.query<{ newest: boolean, items: string, inbox: string }>(`
    SELECT o.upstream_updated_at = (SELECT max((convert_from(w.body, 'UTF8')::jsonb #>> '{data,updated_at}')::timestamptz)
                                      FROM webhook_inbox w WHERE w.reference = $1) AS newest,
           (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS items,
           (SELECT count(*) FROM webhook_inbox w WHERE w.reference = $1) AS inbox
      FROM orders o WHERE o.provider = 'gameso' AND o.reference = $1`, [HOT_REFERENCE])
  const hotStored = hotRow?.newest === true && Number(hotRow.items) === 2 && Number(hotRow.inbox) >= hotAcknowledged

  const distinctRatio = distinct.measured.reqPerSec / Math.max(distinct.baseline.result.reqPerSec, 1)
  const hotRatio = hot.measured.reqPerSec / Math.max(hot.baseline.result.reqPerSec, 1)
  const clean = (result: typeof distinct.measured) => result.errors === 0 && result.non2xx === 0
  return [
    ctx.row('webhook: distinct orders, 2 items each', distinct.measured, distinct.baseline, {
      roundRatios: distinct.roundRatios,
      acknowledged: distinctAcknowledged,
      rowsVerified: verifiedOrders,
      allAcknowledgedStored: distinctStored,
      noopReqPerSec: ceiling.reqPerSec,
      ratioToNoop: Math.round(distinct.measured.reqPerSec / Math.max(ceiling.reqPerSec, 1) * 1000) / 1000,
      targetMet: distinctRatio >= TARGETS.ratio && distinct.measured.p99Ms <= TARGETS.distinctP99Ms && clean(distinct.measured) && distinctStored
    }),
    ctx.row('webhook: one hot order', hot.measured, hot.baseline, {
      roundRatios: hot.roundRatios,
      acknowledged: hotAcknowledged,
      inboxRows: Number(hotRow?.inbox ?? 0),
      rowsVerified: hotStored ? 1 : 0,
      allAcknowledgedStored: hotStored,
      targetMet: hotRatio >= TARGETS.ratio && clean(hot.measured) && hotStored
    })
  ]
}
