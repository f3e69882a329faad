// Checks the harness itself, and shows the noise floor of a run: the no-op baseline compared with
// the same no-op in a second process should come out at a ratio of about 1. Also exercises every
// other path scenarios rely on: requests built in the load process (each one distinct, every one
// counted), a baseline with a database pool, and the built service on the file's database.
import {
  moduleExport,
  noopBaseline,
  pgSelectBaseline,
  type BaselineRoutes,
  type BenchContext,
  type RequestBuilderFactory,
  type ResultRow
} from './lib/harness.js'

/** Request N carries N, so the server can tell whether every request was distinct. */
export const numberedBodies: RequestBuilderFactory = () => (index) => ({
  method: 'POST',
  path: '/selfcheck/numbered',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ index })
})

export const numberedRoutes: BaselineRoutes = (app) => {
  const seen = new Set<number>()
  let received = 0
  app.post<{ Body: { index: number } }>('/selfcheck/numbered', async (request, reply) => {
    received++
    seen.add(request.body.index)
    return reply.code(204).send()
  })
  app.get('/selfcheck/numbered', async () => ({ received, distinct: seen.size }))
}

export default async function run (ctx: BenchContext): Promise<ResultRow[]> {
  const noop = await ctx.startBaseline({ routes: noopBaseline })
  const noopLoad = { name: 'fastify no-op', url: noop.url, request: { path: '/noop' } }

  const twin = await ctx.startBaseline({ routes: noopBaseline })
  const same = await ctx.compare({ baseline: noopLoad, measured: { url: twin.url, request: { path: '/noop' } } })
  await twin.stop()

  const counter = await ctx.startBaseline({ routes: moduleExport(import.meta.url, 'numberedRoutes') })
  const built = await ctx.compare({
    baseline: noopLoad,
    measured: { url: counter.url, builder: moduleExport(import.meta.url, 'numberedBodies') }
  })
  const counts = await (await fetch(`${counter.url}/selfcheck/numbered`)).json() as { received: number, distinct: number }
  const answered = built.measured.responses2xx + built.measured.warmup.responses2xx
  await counter.stop()

  const withPool = await ctx.startBaseline({ routes: pgSelectBaseline, database: ctx.database })
  const select = await ctx.compare({ baseline: noopLoad, measured: { url: withPool.url, request: { path: '/pg/select-1' } } })
  await withPool.stop()

  // The service's cheapest route: its fixed cost per request (hooks, plugins) over bare Fastify.
  const service = await ctx.startService({ env: { RECONCILE_ENABLED: 'false' } })
  const live = await ctx.compare({ baseline: noopLoad, measured: { url: service.url, request: { path: '/health/live' } } })

  return [
    ctx.row('no-op vs no-op', same.measured, same.baseline, { roundRatios: same.roundRatios }),
    ctx.row('built requests vs no-op', built.measured, built.baseline, {
      roundRatios: built.roundRatios,
      received: counts.received,
      // Every answered request reached the server with an index no other request had.
      bodiesVerified: counts.distinct === counts.received && counts.received >= answered
    }),
    ctx.row('pg SELECT 1 vs no-op', select.measured, select.baseline, { roundRatios: select.roundRatios }),
    ctx.row('service /health/live vs no-op', live.measured, live.baseline, { roundRatios: live.roundRatios })
  ]
}
