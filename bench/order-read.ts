// The merchant read API under load, on 1,000,000 stored orders of 2 items each:
//   - GET /v1/orders/{reference_id} on random existing references, against a bare Fastify route
//     that runs the same SELECT (order + items) with raw pg and sends the row as it comes;
//   - a list page filtered by status, first and at deep cursors, against a bare route that runs
//     the same keyset statement.
// Both sides use the same database, pool size and load; the ratio is ours ÷ baseline.
import type pg from 'pg'
import { buildOrderListQuery, FIND_ORDER_BY_REFERENCE_QUERY } from '../src/repositories/order-queries.js'
import { decodeCursor, encodeCursor } from '../src/routes/orders.js'
import {
  moduleExport,
  type BaselineRoutes,
  type BenchContext,
  type BenchRequest,
  type Comparison,
  type RequestBuilderFactory,
  type ResultRow
} from './lib/harness.js'

const ORDER_COUNT = Number(process.env.BENCH_ORDER_COUNT ?? 1_000_000)
const API_KEY = 'bench-order-read-key'
const PAGE_SIZE = 50
const STATUS = 'completed'
/** How deep into the status-filtered list the cursors of the deep-page run start, as fractions. */
const DEPTHS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
const TARGETS = { singleRatio: 0.6, singleP99Ms: 20, listP99Ms: 30 }
const FEW_CONNECTIONS = 10

const referenceOf = (n: number) => `bench-${n}`

// ---- seeding -----------------------------------------------------------------------------------

const SEED_ORDERS = `
  INSERT INTO orders (provider, reference, provider_order_id, status, provider_status, status_rank, is_final,
    user_id, currency, subtotal_amount, discount_amount, total_amount, source_type, created_by,
    failure_code, failure_message, upstream_created_at, upstream_updated_at, completed_at, snapshot_hash,
    last_source, reconcile_state, next_poll_at)
  SELECT 'gameso', 'bench-' || n, 'ord_bench_' || n, s.status, s.status, s.rank, s.final,
    'user_' || (n % 50000), 'THB', 202.00, 0.00, 202.00, 'api', '{"id":0,"name":"API"}'::jsonb,
    CASE WHEN s.status = 'failed' THEN 'ITEM_NOT_FOUND' END,
    CASE WHEN s.status = 'failed' THEN 'Product SKU not found in provider system' END,
    t.updated - interval '30 seconds', t.updated, CASE WHEN s.status = 'completed' THEN t.updated END,
    md5(n::text), 'webhook', CASE WHEN s.final THEN 'final' ELSE 'active' END,
    CASE WHEN s.final THEN NULL ELSE t.updated + interval '1 year' END
  FROM generate_series(1, $1::int) AS n
  -- A multiplicative permutation of n: clocks are unique but unrelated to insertion (id) order.
  CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' + ((n::bigint * 7919) % $1::int) * interval '1 second' AS updated) t
  -- 80 % completed, 10 % failed, 5 % processing, 5 % pending.
  CROSS JOIN LATERAL (SELECT CASE WHEN n % 20 < 16 THEN 'completed' WHEN n % 20 < 18 THEN 'failed'
                                  WHEN n % 20 = 18 THEN 'processing' ELSE 'pending' END AS status) named
  CROSS JOIN LATERAL (SELECT named.status, CASE named.status WHEN 'pending' THEN 1 WHEN 'processing' THEN 2 ELSE 3 END AS rank,
                             named.status IN ('completed', 'failed') AS final) s`

const SEED_ITEMS = `
  INSERT INTO order_items (order_id, position, sku, quantity, completed_quantity, failed_quantity, status, currency,
    subtotal_amount, discount_amount, total_amount, failure_code, failure_message)
  SELECT o.id, p, 'SKU-' || (p + 1), 1, (o.status = 'completed')::int, (o.status = 'failed')::int,
    o.status, 'THB', 101.00, 0.00, 101.00, o.failure_code, o.failure_message
  FROM orders o CROSS JOIN generate_series(0, 1) AS p`

/**
 * Bulk load the way PostgreSQL's "Populating a Database" advises: set-based INSERTs with the
 * secondary indexes and the foreign key dropped, then both rebuilt from their own catalog
 * definitions (so the schema ends exactly as migrated), then VACUUM ANALYZE for realistic plans.
 */
async function seedOrders (pool: pg.Pool, count: number): Promise<void> {
  const client = await pool.connect()
  try {
    const indexes = await client.query<{ name: string, definition: string }>(`
      SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename IN ('orders', 'order_items')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
    const foreignKeys = await client.query<{ name: string, table: string, definition: string }>(`
      SELECT conname AS name, conrelid::regclass::text AS table, pg_get_constraintdef(oid) AS definition
        FROM pg_constraint WHERE contype = 'f' AND conrelid = 'order_items'::regclass`)
    for (const key of foreignKeys.rows) await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`)
    for (const index of indexes.rows) await client.query(`DROP INDEX ${index.name}`)
    await client.query(SEED_ORDERS, [count])
    await client.query(SEED_ITEMS)
    for (const index of indexes.rows) await client.query(index.definition)
    for (const key of foreignKeys.rows) await client.query(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.definition}`)
    await client.query('VACUUM (ANALYZE) orders, order_items')
  } finally {
    client.release()
  }
}

/** Cursors of the status-filtered list after the row at each depth, found in one ordered pass. */
async function deepCursors (pool: pg.Pool): Promise<string[]> {
  const total = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE status = $1', [STATUS])).rows[0]?.n)
  const positions = DEPTHS.map((depth) => Math.max(1, Math.floor(total * depth)))
  const result = await pool.query<{ updated: Date | null, id: string }>(`
    SELECT updated, id FROM (
      SELECT upstream_updated_at AS updated, id,
             row_number() OVER (ORDER BY upstream_updated_at DESC NULLS FIRST, id DESC) AS position
        FROM orders WHERE status = $1) ranked
     WHERE position = ANY($2::bigint[]) ORDER BY position`, [STATUS, positions])
  return result.rows.map((row) => encodeCursor({ updatedAt: row.updated, id: row.id }))
}

// ---- load (imported by the load process) -------------------------------------------------------

/** Request N reads a reference spread over the whole table by a multiplicative hash of N. */
export const randomOrderReads: RequestBuilderFactory<{ pathPrefix: string, count: number, headers: Record<string, string> }> =
  ({ pathPrefix, count, headers }) => (index) => ({
    path: `${pathPrefix}${referenceOf((Math.imul(index + 1, 2654435761) >>> 0) % count + 1)}`,
    headers
  })

// ---- baseline (imported by the baseline process) -----------------------------------------------

/** The service's statements, run with raw pg and answered as the rows come: the floor. */
export const rawReadRoutes: BaselineRoutes = (app, { pool }) => {
  const db = pool()
  app.get<{ Params: { reference: string } }>('/orders/:reference', async (request, reply) => {
    const result = await db.query({ ...FIND_ORDER_BY_REFERENCE_QUERY, values: ['gameso', request.params.reference] })
    return result.rows[0] ?? reply.code(404).send()
  })
  app.get<{ Querystring: { status: 'completed', cursor?: string } }>('/orders', async (request) => {
    const after = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor) ?? undefined
    const query = buildOrderListQuery({ status: request.query.status, after, limit: PAGE_SIZE })
    const result = await db.query(query.text, query.values)
    return { data: result.rows.slice(0, PAGE_SIZE) }
  })
}

// ---- scenario ----------------------------------------------------------------------------------

async function json (url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, { headers })
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`)
  return response.json()
}

const references = (page: unknown) => (page as { data: Array<{ reference_id?: string, reference?: string }> }).data
  .map((order) => order.reference_id ?? order.reference)

export default async function run (ctx: BenchContext): Promise<ResultRow[]> {
  const pool = ctx.database.pool
  let started = performance.now()
  await seedOrders(pool, ORDER_COUNT)
  const seedSeconds = Math.round((performance.now() - started) / 100) / 10
  ctx.log('seeded', { orders: ORDER_COUNT, items: ORDER_COUNT * 2, seconds: seedSeconds })

  started = performance.now()
  const cursors = await deepCursors(pool)
  ctx.log('deep cursors found', { cursors: cursors.length, seconds: Math.round((performance.now() - started) / 100) / 10 })

  const deepest = cursors.at(-1)
  if (deepest === undefined) throw new Error('no deep cursor found: is the table seeded?')
  const deepestQuery = buildOrderListQuery({ status: STATUS, after: decodeCursor(deepest) ?? undefined, limit: PAGE_SIZE })
  const explained = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${deepestQuery.text}`, deepestQuery.values)
  // The node that reads orders: an index scan whose condition holds the cursor, whatever the depth.
  const plan = explained.rows.map((row) => row['QUERY PLAN'].replace(/^[\s>-]+/, ''))
    .find((line) => /^(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)\b/.test(line))?.replace(/\s+\(cost=.*$/, '')

  const service = await ctx.startService({ env: { API_KEYS: API_KEY, RATE_LIMIT_MAX: '1000000000', RECONCILE_ENABLED: 'false' } })
  const baseline = await ctx.startBaseline({ routes: moduleExport(import.meta.url, 'rawReadRoutes'), database: ctx.database })
  const auth = { 'x-api-key': API_KEY }

  // Both sides answer the same orders in the same order before anything is timed.
  const sample = referenceOf(Math.ceil(ORDER_COUNT / 3))
  const one = await json(`${service.url}/v1/orders/${sample}`, auth) as { reference_id: string, items: unknown[] }
  const raw = await json(`${baseline.url}/orders/${sample}`) as { reference: string, items: unknown[] }
  const samePages = JSON.stringify(references(await json(`${service.url}/v1/orders?status=${STATUS}&limit=${PAGE_SIZE}&cursor=${deepest}`, auth))) ===
    JSON.stringify(references(await json(`${baseline.url}/orders?status=${STATUS}&cursor=${deepest}`)))
  const verified = one.reference_id === raw.reference && one.items.length === 2 && raw.items.length === 2 && samePages
  if (!verified) throw new Error('the service and the baseline disagree on what they read: the comparison would be meaningless')

  const single = await ctx.compare({
    baseline: { name: 'raw pg: same order + items SELECT', url: baseline.url, builder: moduleExport(import.meta.url, 'randomOrderReads', { pathPrefix: '/orders/', count: ORDER_COUNT, headers: {} }) },
    measured: { url: service.url, builder: moduleExport(import.meta.url, 'randomOrderReads', { pathPrefix: '/v1/orders/', count: ORDER_COUNT, headers: auth }) }
  })
  const firstPage = await ctx.compare({
    baseline: { name: 'raw pg: same keyset page', url: baseline.url, request: { path: `/orders?status=${STATUS}` } },
    measured: { url: service.url, request: { path: `/v1/orders?status=${STATUS}&limit=${PAGE_SIZE}`, headers: auth } }
  })
  const deepPages: { service: BenchRequest[], baseline: BenchRequest[] } = {
    service: cursors.map((cursor) => ({ path: `/v1/orders?status=${STATUS}&limit=${PAGE_SIZE}&cursor=${cursor}`, headers: auth })),
    baseline: cursors.map((cursor) => ({ path: `/orders?status=${STATUS}&cursor=${cursor}` }))
  }
  const deep = await ctx.compare({
    baseline: { name: 'raw pg: same keyset page', url: baseline.url, sequence: deepPages.baseline },
    measured: { url: service.url, sequence: deepPages.service }
  })
  // At 50 connections a page's latency is mostly its wait for the CPU that 49 others hold (2 cores
  // for PostgreSQL, the service and autocannon); fewer connections show the page's own cost.
  const deepFew = await ctx.compare({
    baseline: { name: 'raw pg: same keyset page', url: baseline.url, sequence: deepPages.baseline, connections: FEW_CONNECTIONS },
    measured: { url: service.url, sequence: deepPages.service, connections: FEW_CONNECTIONS }
  })

  const common = { orders: ORDER_COUNT, seedSeconds, verified }
  // The baseline's own tail shows how much of a p99 is the machine rather than the service.
  const tail = (comparison: Comparison) => ({ roundRatios: comparison.roundRatios, baselineP99Ms: comparison.baseline.result.p99Ms })
  return [
    ctx.row('GET /v1/orders/{ref}, random ref', single.measured, single.baseline, {
      ...common,
      ...tail(single),
      targetMet: single.measured.reqPerSec >= TARGETS.singleRatio * single.baseline.result.reqPerSec && single.measured.p99Ms <= TARGETS.singleP99Ms && single.measured.non2xx === 0
    }),
    ctx.row(`list status=${STATUS}, first page`, firstPage.measured, firstPage.baseline, {
      ...common,
      ...tail(firstPage),
      targetMet: firstPage.measured.p99Ms <= TARGETS.listP99Ms && firstPage.measured.non2xx === 0
    }),
    ...[deep, deepFew].map((comparison) => ctx.row(`list status=${STATUS}, deep cursors (${DEPTHS.map((depth) => `${depth * 100}`).join('/')} %), ${comparison.measured.connections} conns`, comparison.measured, comparison.baseline, {
      ...common,
      ...tail(comparison),
      plan,
      targetMet: comparison.measured.p99Ms <= TARGETS.listP99Ms && comparison.measured.non2xx === 0
    }))
  ]
}
