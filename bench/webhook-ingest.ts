// GameSO webhook ingestion under load: signed `POST /webhooks/gameso` deliveries against
//   - distinct orders of 2 items each (50 connections, and again at 8 and at 200, which shows how
//     concurrency drives the merge's batch size), and
//   - one hot order (every delivery a newer snapshot of the same order),
// each compared in alternating rounds with a bare Fastify route that runs ONE raw pg
// `INSERT … ON CONFLICT DO UPDATE` of the same order row into the same `orders` table (random keys,
// or the one hot key) at the same concurrency, and once with a Fastify no-op route that parses the
// same bodies. Every row records the merge's mean batch size (from the service's own histogram),
// the baseline's p99, the service's resident memory after it, and where the CPU went: the server
// process, its PostgreSQL backends, the load generator, and the rest of the machine.
// Afterwards the service's database is checked: every acknowledged webhook is in the inbox and its
// order is there with both items (distinct), or the order holds the newest delivered snapshot (hot).
import type pg from 'pg'
import { signGameSoBody } from '../src/providers/gameso/gameso-signature.js'
import { postgresBackendPids, residentMb } from './lib/cpu.js'
import {
  moduleExport,
  noopBaseline,
  type BaselineRoutes,
  type BenchContext,
  type BenchDatabase,
  type Comparison,
  type LoadResult,
  type RequestBuilderFactory,
  type ResultRow
} from './lib/harness.js'

const SECRET = 'bench-webhook-secret'
const HOT_REFERENCE = 'bench-hot'
const DISTINCT_PREFIX = 'bench-distinct-'
/** Issue targets: at least the raw single upsert's rate, a p99 within 1.5× of its p99, at most 200 MB resident. */
const TARGETS = { ratio: 1.0, p99Factor: 1.5, rssMb: 200 }
/** application_name of each side's pool, to find its PostgreSQL backends. */
const SERVICE_APPLICATION = 'order-mirror'
const BASELINE_APPLICATION = 'order-mirror-bench-baseline'
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

interface MergeBatches { sum: number, count: number }

/** The service's merge batch-size histogram, read from its /metrics. */
async function mergeBatches (serviceUrl: string): Promise<MergeBatches> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text()
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  return { sum: read('order_mirror_merge_batch_size_sum'), count: read('order_mirror_merge_batch_size_count') }
}

function round (value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** Where one side's CPU went over its runs: cores busy on average, and CPU ms per request. */
function cpuShares (result: LoadResult, wallSeconds: number) {
  const cpu = result.cpuSeconds ?? {}
  const node = cpu.node ?? 0
  const postgres = cpu.postgres ?? 0
  const load = cpu.load ?? 0
  const other = Math.max(0, (cpu.machine ?? 0) - node - postgres - load)
  const requests = Math.max(1, result.responses + result.warmup.responses)
  return {
    cores: { node: round(node / wallSeconds), postgres: round(postgres / wallSeconds), load: round(load / wallSeconds), other: round(other / wallSeconds) },
    msPerRequest: { node: round(node * 1000 / requests, 3), postgres: round(postgres * 1000 / requests, 3) }
  }
}

export default async function run (ctx: BenchContext): Promise<ResultRow[]> {
  const baselineDb = await ctx.createDatabase('raw_upsert')
  const upsert = await ctx.startBaseline({ routes: moduleExport(import.meta.url, 'rawUpsertRoutes'), database: baselineDb })
  // MERGE_BATCH_* from the bench's own environment reach the service, to compare settings.
  const batching = Object.fromEntries(['MERGE_BATCH_MAX_SIZE', 'MERGE_BATCH_CONCURRENCY']
    .flatMap((name) => process.env[name] ? [[name, process.env[name] as string]] : []))
  const service = await ctx.startService({ env: { GAMESO_WEBHOOK_SECRETS: SECRET, RECONCILE_ENABLED: 'false', ...batching } })
  const load = (mode: WebhookLoad['mode'], path: string) => moduleExport(import.meta.url, 'signedWebhooks', { mode, path })
  const backends = (database: BenchDatabase, application: string) => () => postgresBackendPids(ctx.database.pool, database.name, application)
  const serviceCpu = { node: async () => [service.child.pid ?? 0], postgres: backends(ctx.database, SERVICE_APPLICATION) }
  const baselineCpu = { node: async () => [upsert.pid], postgres: backends(baselineDb, BASELINE_APPLICATION) }
  const wallSeconds = (ctx.settings.durationS + ctx.settings.warmupS) * ctx.settings.rounds

  interface Measured { comparison: Comparison, meanBatchSize: number, serviceRssMb: number | null }
  const measure = async (label: string, mode: WebhookLoad['mode'], connections: number, baselineName: string): Promise<Measured> => {
    ctx.log(label)
    const before = await mergeBatches(service.url)
    const comparison = await ctx.compare({
      baseline: { name: baselineName, url: upsert.url, builder: load(mode, '/raw-upsert'), connections, cpu: baselineCpu },
      measured: { url: service.url, builder: load(mode, '/webhooks/gameso'), connections, cpu: serviceCpu }
    })
    const after = await mergeBatches(service.url)
    return {
      comparison,
      meanBatchSize: round((after.sum - before.sum) / Math.max(1, after.count - before.count)),
      serviceRssMb: await residentMb(service.child.pid ?? 0)
    }
  }
  const connections = ctx.settings.connections
  const distinct = await measure('distinct orders', 'distinct', connections, 'raw pg upsert, random keys')
  const hot = await measure('one hot order', 'hot', connections, 'raw pg upsert, one hot key')
  const low = await measure('distinct orders, 8 connections', 'distinct', 8, 'raw pg upsert, random keys, 8 connections')
  const high = await measure('distinct orders, 200 connections', 'distinct', 200, 'raw pg upsert, random keys, 200 connections')
  await service.stop()
  await upsert.stop()

  ctx.log('no-op ceiling')
  const noop = await ctx.startBaseline({ routes: noopBaseline })
  const ceiling = await ctx.autocannon({ url: noop.url, builder: load('distinct', '/noop') })
  await noop.stop()

  const db = ctx.database.pool
  const acknowledged = (result: LoadResult) => result.responses2xx + result.warmup.responses2xx
  const distinctAcknowledged = [distinct, low, high].reduce((total, run) => total + acknowledged(run.comparison.measured), 0)
  const { rows: [distinctRows] } = await db.query<{ orders: string, complete: string, inbox: string }>(`
    SELECT count(*) AS orders,
           count(*) FILTER (WHERE (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) = 2) AS complete,
           (SELECT count(*) FROM webhook_inbox WHERE reference LIKE $1 || '%' AND outcome = 'applied') AS inbox
      FROM orders o WHERE o.provider = 'gameso' AND o.reference LIKE $1 || '%'`, [DISTINCT_PREFIX])
  const verifiedOrders = Number(distinctRows?.complete ?? 0)
  // Requests still in flight when a run ended may be stored without having been counted.
  const distinctStored = verifiedOrders >= distinctAcknowledged && Number(distinctRows?.inbox ?? 0) >= distinctAcknowledged

  const hotAcknowledged = acknowledged(hot.comparison.measured)
  const { rows: [hotRow] } = await db.query<{ newest: boolean, items: string, inbox: string }>(`
    SELECT o.upstream_updated_at = (SELECT max((convert_from(w.body, 'UTF8')::jsonb #>> '{data,updated_at}')::timestamptz)
                                      FROM webhook_inbox w WHERE w.reference = $1) AS newest,
           (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS items,
           (SELECT count(*) FROM webhook_inbox w WHERE w.reference = $1) AS inbox
      FROM orders o WHERE o.provider = 'gameso' AND o.reference = $1`, [HOT_REFERENCE])
  const hotStored = hotRow?.newest === true && Number(hotRow.items) === 2 && Number(hotRow.inbox) >= hotAcknowledged

  const row = (scenario: string, run: Measured, stored: boolean, extra: Record<string, unknown>) => {
    const { measured, baseline, roundRatios } = run.comparison
    const ratio = measured.reqPerSec / Math.max(baseline.result.reqPerSec, 1)
    const service = cpuShares(measured, wallSeconds)
    const floor = cpuShares(baseline.result, wallSeconds)
    return ctx.row(scenario, measured, baseline, {
      roundRatios,
      meanBatchSize: run.meanBatchSize,
      baselineP99Ms: baseline.result.p99Ms,
      serviceRssMb: run.serviceRssMb,
      cpuCores: service.cores,
      cpuMsPerRequest: service.msPerRequest,
      baselineCpuCores: floor.cores,
      baselineCpuMsPerRequest: floor.msPerRequest,
      ...extra,
      allAcknowledgedStored: stored,
      targetMet: ratio >= TARGETS.ratio && measured.p99Ms <= TARGETS.p99Factor * baseline.result.p99Ms &&
        measured.errors === 0 && measured.non2xx === 0 && stored && (run.serviceRssMb ?? Infinity) <= TARGETS.rssMb
    })
  }
  // The three distinct-order loads share one order prefix, so their rows are verified together.
  const distinctExtra = { distinctAcknowledged, rowsVerified: verifiedOrders }
  return [
    row('webhook: distinct orders, 2 items each', distinct, distinctStored, {
      ...distinctExtra,
      noopReqPerSec: ceiling.reqPerSec,
      ratioToNoop: round(distinct.comparison.measured.reqPerSec / Math.max(ceiling.reqPerSec, 1), 3)
    }),
    row('webhook: one hot order', hot, hotStored, { acknowledged: hotAcknowledged, inboxRows: Number(hotRow?.inbox ?? 0), rowsVerified: hotStored ? 1 : 0 }),
    row('webhook: concurrency 8', low, distinctStored, distinctExtra),
    row('webhook: concurrency 200', high, distinctStored, distinctExtra)
  ]
}
