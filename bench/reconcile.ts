// The reconciler at full tilt, and the cost of finding work in a large table:
//   - poll-rate: 10,000 stale GameSO orders, the simulator as upstream with a hard limit of
//     200 req/s, the service's client configured for the same 200 req/s. Achieved poll rate at
//     the simulator ÷ the configured rate (target ≥ 0.95), and the time to drain them all.
//   - poll-rate-midasbuy: the same for 10,000 stale MidasBuy orders polled by OrderQuery (every
//     request signed with the merchant key and verified by the simulator), at the same 200 req/s.
//   - claim-query: one due-order claim (the reconciler's real statement, rolled back so the due
//     set stays the same) with 10,000 and with 1,000,000 final orders in the table. Claims per
//     second at 1M ÷ at 10k = median time at 10k ÷ median time at 1M (target ≥ 0.5: flat within 2×).
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { claimDueOrders } from '../src/repositories/reconcile-repository.js'
import { startSimulatorProcess, type SimulatorProcess } from '../test/helpers/simulator-process.js'
import type { BenchContext, ResultRow } from './lib/harness.js'
import { buildServiceOnce } from './lib/service.js'

const STALE_ORDERS = Number(process.env.BENCH_RECONCILE_ORDERS ?? 10_000)
const RATE_LIMIT = 200
const CONCURRENCY = 32
const SMALL_TABLE = 10_000
const LARGE_TABLE = 1_000_000
const DUE_ORDERS = 1000
const CLAIM_BATCH = 100
const CLAIM_SAMPLES = 300
const CLAIM_ROUNDS = 6
const DRAIN_TIMEOUT_MS = 10 * 60_000
const TARGETS = { pollRateRatio: 0.95, claimRatio: 0.5 }

interface SimulatorStats {
  api: {
    total: number
    byStatus: Record<string, number>
    maxConcurrentGetsPerReference: number
    peakPerSecond: number
    perSecond: Array<{ second: number, count: number }>
    firstRequestAt: string | null
    lastRequestAt: string | null
  }
  /** MidasBuy only: request signatures the simulator verified or refused. */
  signatures?: { verified: number, refused: Record<string, number> }
}

/** The figures a row needs that a load run would otherwise fill: none of these rows is HTTP load. */
function row (scenario: string, figures: { reqPerSec: number, p50Ms: number, p99Ms: number, baseline: string, baselineReqPerSec: number, durationS: number }, extra: Record<string, unknown>): ResultRow {
  return {
    scenario,
    ...figures,
    ratio: figures.baselineReqPerSec > 0 ? Math.round(figures.reqPerSec / figures.baselineReqPerSec * 1000) / 1000 : 0,
    errors: 0,
    non2xx: 0,
    connections: 0,
    measuredAt: new Date().toISOString(),
    loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    ...extra
  }
}

/** `q`-quantile of a Prometheus histogram, as the upper bound of the bucket that holds it. */
function histogramQuantileMs (metrics: string, name: string, labels: readonly string[], q: number): number {
  const buckets = metrics.split('\n')
    .filter((line) => line.startsWith(`${name}_bucket{`) && labels.every((label) => line.includes(label)))
    .map((line) => ({ le: Number(/le="([^"]+)"/.exec(line)?.[1]), count: Number(line.slice(line.lastIndexOf(' ') + 1)) }))
  const total = buckets.at(-1)?.count ?? 0
  const bucket = buckets.find((candidate) => candidate.count >= q * total)
  return bucket === undefined || !Number.isFinite(bucket.le) ? Number.NaN : bucket.le * 1000
}

function quantile (sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

const round2 = (value: number) => Math.round(value * 100) / 100

async function countFinal (pool: pg.Pool, provider: string): Promise<number> {
  const { rows } = await pool.query<{ final: number }>(
    "SELECT count(*)::int AS final FROM orders WHERE provider = $1 AND reconcile_state = 'final'", [provider])
  return rows[0]?.final ?? 0
}

/** One upstream as the poll-rate rows drive it: where its simulator controls live and how the service reaches it. */
interface PolledUpstream {
  scenario: string
  provider: string
  /** The upstream's name as the row's baseline spells it. */
  name: string
  /** The simulator's control prefix for this upstream. */
  control: string
  /** The `operation` label of its order read in the upstream metrics. */
  operation: string
  /** The simulator's truth: final orders under these references. */
  seed (simulator: SimulatorProcess, references: readonly string[]): Promise<void>
  /** The mirror's last word on each order, long ago and not final: the webhooks that would have moved it on were missed. */
  staleRow: { status: string, providerStatus: string, rank: number }
  serviceEnv (simulator: SimulatorProcess): Promise<Record<string, string>>
}

/**
 * Concurrency must cover rate × round trip: on a busy 2-core machine a request's round trip
 * reaches tens of milliseconds, and the default in flight would cap the rate below 200/s.
 */
const POLLING = { requestsPerSecond: String(RATE_LIMIT), concurrency: String(CONCURRENCY) }

const GAMESO: PolledUpstream = {
  scenario: 'poll-rate',
  provider: 'gameso',
  name: 'GameSO',
  control: '/_control',
  operation: 'get_order',
  async seed (simulator, references) {
    await simulator.control('POST', '/_control/orders', {
      orders: references.map((reference, index) => ({ reference_id: reference, status: index % 10 === 0 ? 'failed' : 'completed' }))
    })
  },
  staleRow: { status: 'pending', providerStatus: 'pending', rank: 1 },
  async serviceEnv (simulator) {
    return {
      GAMESO_BASE_URL: simulator.url,
      GAMESO_API_KEY: simulator.apiKey,
      GAMESO_MAX_REQUESTS_PER_SECOND: POLLING.requestsPerSecond,
      GAMESO_MAX_CONCURRENCY: POLLING.concurrency
    }
  }
}

interface MidasBuyCredentials {
  app_id: string
  merchant_cert_serial_no: string | null
  merchant_private_key?: string
}

const MIDASBUY: PolledUpstream = {
  scenario: 'poll-rate-midasbuy',
  provider: 'midasbuy',
  name: 'MidasBuy',
  control: '/_control/midasbuy',
  operation: 'order_query',
  async seed (simulator, references) {
    await simulator.control('POST', '/_control/midasbuy/orders', {
      orders: references.map((reference, index) => ({
        payment_order_id: reference,
        status: index % 10 === 0 ? 'Refunded' : 'Finished',
        create_time: '2026-05-01T00:00:00Z',
        update_time: '2026-05-01T00:10:00Z'
      }))
    })
  },
  staleRow: { status: 'pending', providerStatus: 'Created', rank: 1 },
  async serviceEnv (simulator) {
    // The simulator made the merchant key pair at start and hands out the private half.
    const credentials = await simulator.control<MidasBuyCredentials>('GET', '/_control/midasbuy/credentials')
    if (credentials.merchant_private_key === undefined) throw new Error('the MidasBuy simulator did not generate a merchant key')
    return {
      MIDASBUY_BASE_URL: simulator.url,
      MIDASBUY_APP_ID: credentials.app_id,
      MIDASBUY_MERCHANT_PRIVATE_KEY: credentials.merchant_private_key,
      MIDASBUY_CERT_SERIAL_NO: credentials.merchant_cert_serial_no ?? 'BENCH-CERT',
      MIDASBUY_MAX_REQUESTS_PER_SECOND: POLLING.requestsPerSecond,
      MIDASBUY_MAX_CONCURRENCY: POLLING.concurrency
    }
  }
}

async function pollRate (ctx: BenchContext, simulator: SimulatorProcess, upstream: PolledUpstream): Promise<ResultRow> {
  const references = Array.from({ length: STALE_ORDERS }, (_unused, index) => `stale-${index}`)
  await upstream.seed(simulator, references)
  const { status, providerStatus, rank } = upstream.staleRow
  await ctx.database.pool.query(`
    INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, upstream_updated_at, next_poll_at)
    SELECT $2, reference, $3, $4, $5, 'webhook', '2026-01-01T00:00:00Z', now() FROM unnest($1::text[]) AS reference`,
  [references, upstream.provider, status, providerStatus, rank])
  await simulator.control('POST', `${upstream.control}/reset`)

  ctx.log('polling', { provider: upstream.provider, orders: STALE_ORDERS, rateLimit: RATE_LIMIT })
  const service = await ctx.startService({ env: { ...await upstream.serviceEnv(simulator), RECONCILE_ENABLED: 'true' } })
  const deadline = Date.now() + DRAIN_TIMEOUT_MS
  let final = await countFinal(ctx.database.pool, upstream.provider)
  while (final < STALE_ORDERS && Date.now() < deadline) {
    await sleep(100)
    final = await countFinal(ctx.database.pool, upstream.provider)
  }
  const drainedAt = Date.now()
  if (final < STALE_ORDERS) throw new Error(`only ${final} of ${STALE_ORDERS} ${upstream.provider} orders final after ${DRAIN_TIMEOUT_MS / 1000} s`)

  const stats = await simulator.control<SimulatorStats>('GET', `${upstream.control}/stats`)
  const metrics = await (await fetch(`${service.url}/metrics`)).text()
  await service.stop()
  const first = Date.parse(stats.api.firstRequestAt ?? '')
  const last = Date.parse(stats.api.lastRequestAt ?? '')
  // N requests spaced at the limit span (N - 1) intervals.
  const achieved = (stats.api.total - 1) / ((last - first) / 1000)
  const latency = [`provider="${upstream.provider}"`, `operation="${upstream.operation}"`]
  const perSecond = stats.api.perSecond.map((bucket) => bucket.count)
  // The first and last seconds are partial.
  const fullSeconds = perSecond.slice(1, -1).sort((a, b) => a - b)
  return row(upstream.scenario, {
    reqPerSec: round2(achieved),
    p50Ms: histogramQuantileMs(metrics, 'order_mirror_upstream_request_seconds', latency, 0.5),
    p99Ms: histogramQuantileMs(metrics, 'order_mirror_upstream_request_seconds', latency, 0.99),
    baseline: `configured ${upstream.name} rate (${RATE_LIMIT} req/s, simulator hard limit the same)`,
    baselineReqPerSec: RATE_LIMIT,
    durationS: round2((last - first) / 1000)
  }, {
    target: `ratio ≥ ${TARGETS.pollRateRatio}, no 429, never two concurrent polls of one order`,
    orders: STALE_ORDERS,
    upstreamRequests: stats.api.total,
    upstreamStatuses: stats.api.byStatus,
    rateLimited: stats.api.byStatus['429'] ?? 0,
    peakPerSecond: stats.api.peakPerSecond,
    perSecond: { min: fullSeconds[0] ?? null, median: quantile(fullSeconds, 0.5), max: fullSeconds.at(-1) ?? null },
    maxConcurrentGetsPerReference: stats.api.maxConcurrentGetsPerReference,
    ...(stats.signatures === undefined ? {} : { requestSignatures: stats.signatures }),
    timeToDrainS: round2((drainedAt - first) / 1000),
    latencyFrom: 'order_mirror_upstream_request_seconds bucket upper bounds'
  })
}

/** Milliseconds of each of `count` claims, rolled back so every sample finds the same due orders. */
async function claimSamples (pool: pg.Pool, count: number): Promise<number[]> {
  const client = await pool.connect()
  const samples: number[] = []
  try {
    for (let sample = 0; sample < count; sample++) {
      await client.query('BEGIN')
      const started = performance.now()
      const claimed = await claimDueOrders(client, { provider: 'gameso', limit: CLAIM_BATCH, leaseMs: 60_000, owner: 'bench' })
      samples.push(performance.now() - started)
      await client.query('ROLLBACK')
      if (claimed.length !== CLAIM_BATCH) throw new Error(`claim returned ${claimed.length} orders, expected ${CLAIM_BATCH}`)
    }
  } finally {
    client.release()
  }
  return samples
}

/** `finalOrders` final orders and DUE_ORDERS due ones, as the reconciler finds them. */
async function fillForClaims (pool: pg.Pool, finalOrders: number): Promise<void> {
  await pool.query(`
    INSERT INTO orders (provider, reference, provider_order_id, status, provider_status, status_rank, is_final, user_id,
      currency, total_amount, upstream_updated_at, last_source, reconcile_state, next_poll_at)
    SELECT 'gameso', 'final-' || n, 'ord_final_' || n, 'completed', 'completed', 3, true, 'user_' || (n % 50000),
      'THB', 100.00, timestamptz '2026-01-01' + n * interval '1 second', 'webhook', 'final', NULL
      FROM generate_series(1, $1::int) AS n`, [finalOrders])
  await pool.query(`
    INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at)
    SELECT 'gameso', 'due-' || n, 'pending', 'pending', 1, 'create', now() - n * interval '1 millisecond'
      FROM generate_series(1, $1::int) AS n`, [DUE_ORDERS])
  await pool.query('VACUUM (ANALYZE) orders')
}

/**
 * The two table sizes live in two databases, sampled in alternating rounds, so a burst of other
 * work on the machine weighs on both sides rather than on one.
 */
async function claimQuery (ctx: BenchContext): Promise<ResultRow> {
  const small = await ctx.createDatabase('claim-10k')
  const large = await ctx.createDatabase('claim-1m')
  ctx.log('filling', { finalOrders: [SMALL_TABLE, LARGE_TABLE], dueOrders: DUE_ORDERS })
  await fillForClaims(small.pool, SMALL_TABLE)
  await fillForClaims(large.pool, LARGE_TABLE)
  const atSmall: number[] = []
  const atLarge: number[] = []
  for (let round = 0; round < CLAIM_ROUNDS; round++) {
    atSmall.push(...await claimSamples(small.pool, CLAIM_SAMPLES / CLAIM_ROUNDS))
    atLarge.push(...await claimSamples(large.pool, CLAIM_SAMPLES / CLAIM_ROUNDS))
  }
  atSmall.sort((a, b) => a - b)
  atLarge.sort((a, b) => a - b)
  const sum = (samples: readonly number[]) => samples.reduce((total, value) => total + value, 0)
  const meanSmall = sum(atSmall) / atSmall.length
  const meanLarge = sum(atLarge) / atLarge.length
  // Rates from the medians: other work on a shared machine adds outliers to either side at random,
  // and the typical cost of one claim is what the table size could change.
  const medianSmall = quantile(atSmall, 0.5)
  const medianLarge = quantile(atLarge, 0.5)
  return row('claim-query', {
    reqPerSec: round2(1000 / medianLarge),
    p50Ms: round2(medianLarge),
    p99Ms: round2(quantile(atLarge, 0.99)),
    baseline: `the same claim with ${SMALL_TABLE.toLocaleString('en')} final orders`,
    baselineReqPerSec: round2(1000 / medianSmall),
    durationS: round2((sum(atSmall) + sum(atLarge)) / 1000)
  }, {
    target: `ratio ≥ ${TARGETS.claimRatio} (flat within 2×)`,
    finalOrders: { small: SMALL_TABLE, large: LARGE_TABLE },
    dueOrders: DUE_ORDERS,
    claimBatch: CLAIM_BATCH,
    samples: CLAIM_SAMPLES,
    meanMs: { small: round2(meanSmall), large: round2(meanLarge) },
    p50MsSmall: round2(medianSmall),
    p99MsSmall: round2(quantile(atSmall, 0.99))
  })
}

export default async function run (ctx: BenchContext): Promise<ResultRow[]> {
  // The simulator runs from the same build as the service.
  await buildServiceOnce()
  const simulator = await startSimulatorProcess({
    SIMULATOR_SEED: '200',
    SIMULATOR_AUTO_PROGRESS: 'false',
    SIMULATOR_MAX_RPS: String(RATE_LIMIT),
    SIMULATOR_MIDASBUY_AUTO_PROGRESS: 'false',
    SIMULATOR_MIDASBUY_MAX_RPS: String(RATE_LIMIT)
  })
  try {
    // One upstream at a time, each through a service polling only it.
    const rows = [await pollRate(ctx, simulator, GAMESO), await pollRate(ctx, simulator, MIDASBUY)]
    // Not needed for the claim measurement: the two cores are better left to PostgreSQL.
    await simulator.stop()
    rows.push(await claimQuery(ctx))
    return rows
  } finally {
    await simulator.stop()
  }
}
