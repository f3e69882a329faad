// The load process: receives a LoadJob from the harness, runs autocannon in this process only
// (so the load generator never shares an event loop with the server under test), and answers
// with the figures. Started by runLoad(); not meant to be run by hand.
import autocannon from 'autocannon'
import { serveParent } from './child-process.js'
import type { BenchRequest, LoadJob, LoadResult, RequestBuilder, RequestBuilderFactory } from './load.js'
import { importExport } from './module-export.js'

function toAutocannonRequest (request: BenchRequest): autocannon.Request {
  return {
    method: request.method ?? 'GET',
    path: request.path,
    headers: request.headers ?? {},
    ...(request.body === undefined ? {} : { body: request.body })
  }
}

/** The requests to cycle, and how many indices the builder has handed out so far. */
async function requestsFor (job: LoadJob): Promise<{ requests: autocannon.Request[], nextIndex: () => number }> {
  const noBuilder = () => job.firstIndex
  if (job.request) return { requests: [toAutocannonRequest(job.request)], nextIndex: noBuilder }
  if (job.sequence) return { requests: job.sequence.map(toAutocannonRequest), nextIndex: noBuilder }
  if (!job.builder) throw new Error('load job without requests')
  const factory = await importExport<RequestBuilderFactory<unknown>>(job.builder)
  const build: RequestBuilder = await factory(job.builder.options)
  // One counter for the whole process: every connection draws the next index, so request N is
  // built once whichever connection sends it.
  let next = job.firstIndex
  return {
    requests: [{ setupRequest: (defaults) => ({ ...defaults, ...toAutocannonRequest(build(next++)) }) }],
    nextIndex: () => next
  }
}

function hundredths (value: number | undefined): number {
  return Math.round((value ?? 0) * 100) / 100
}

async function run (job: LoadJob): Promise<Omit<LoadResult, 'loadAverage1m'>> {
  const { requests, nextIndex } = await requestsFor(job)
  const cpuBefore = process.cpuUsage()
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationS,
    timeout: job.timeoutS,
    requests,
    ...(job.warmupS > 0 ? { warmup: { connections: job.connections, duration: job.warmupS } } : {})
  })
  const cpu = process.cpuUsage(cpuBefore)
  // Present at run time when a warm-up ran; the type definitions do not declare it.
  const warmup = (result as autocannon.Result & { warmup?: autocannon.Result }).warmup
  return {
    reqPerSec: hundredths(result.requests.average),
    p50Ms: hundredths(result.latency.p50),
    p90Ms: hundredths(result.latency.p90),
    p99Ms: hundredths(result.latency.p99),
    maxMs: hundredths(result.latency.max),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    responses: result.requests.total,
    responses2xx: result['2xx'],
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0])),
    warmup: {
      responses: warmup?.requests.total ?? 0,
      responses2xx: warmup?.['2xx'] ?? 0,
      non2xx: warmup?.non2xx ?? 0,
      errors: warmup?.errors ?? 0
    },
    ...(job.builder ? { builtIndices: { first: job.firstIndex, next: nextIndex() } } : {}),
    loadCpuSeconds: hundredths((cpu.user + cpu.system) / 1e6),
    connections: job.connections,
    durationS: job.durationS
  }
}

serveParent(run, { exitAfterReply: true })
