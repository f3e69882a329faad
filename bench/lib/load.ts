import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { startTsxChild } from './child-process.js'
import { machineBusySeconds, startCpuAccounting, type CpuAccounts } from './cpu.js'
import type { ModuleExport } from './module-export.js'
import type { BenchSettings } from './settings.js'

const RUNNER_ENTRY = fileURLToPath(new URL('./autocannon-runner.ts', import.meta.url))

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One HTTP request, as a load run sends it. The body is sent byte for byte (sign it as is). */
export interface BenchRequest {
  method?: HttpMethod
  /** Path and query, e.g. `/v1/orders/ref-17`. */
  path: string
  headers?: Record<string, string>
  body?: string
}

/**
 * Builds request number `index`: 0, 1, 2, … across every connection, warm-up included, and
 * continuing across runs of the same builder reference within one scenario file, so no index is
 * built twice (a second round does not resend the first round's bodies).
 */
export type RequestBuilder = (index: number) => BenchRequest

/**
 * What a scenario exports for the load process to import: called once there with the reference's
 * `options`, it returns the builder. Do expensive set-up (keys, fixtures) here, not per request.
 */
export type RequestBuilderFactory<O = undefined> = (options: O) => RequestBuilder | Promise<RequestBuilder>

export interface LoadOptions {
  /** Base URL of the target (`service.url`, `baseline.url`). */
  url: string
  /** Exactly one of `request` (the same request every time), `sequence` (cycled in order by each
   *  connection) or `builder` (request N built in the load process, e.g. distinct signed bodies). */
  request?: BenchRequest
  sequence?: BenchRequest[]
  builder?: ModuleExport
  /** Defaults: the run's settings. */
  connections?: number
  durationS?: number
  warmupS?: number
  /** Seconds before a request counts as timed out (autocannon's default: 10). */
  timeoutS?: number
  /** Processes (by account name) whose CPU time over the run, warm-up included, goes into `cpuSeconds`. */
  cpu?: CpuAccounts
}

/** The job the load process receives: the options resolved against the run's settings. */
export interface LoadJob {
  url: string
  request?: BenchRequest
  sequence?: BenchRequest[]
  builder?: ModuleExport
  /** The builder's first index in this run. */
  firstIndex: number
  connections: number
  durationS: number
  warmupS: number
  timeoutS: number
}

export interface LoadResult {
  /** Mean responses per second over the measured seconds (autocannon's `requests.average`). */
  reqPerSec: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** Connection errors and timeouts. */
  errors: number
  timeouts: number
  /** Responses outside 2xx. */
  non2xx: number
  /** Responses in the measured window, and how many of them were 2xx. */
  responses: number
  responses2xx: number
  /** Count per status code, measured window only. */
  statusCodes: Record<string, number>
  /** The unmeasured warm-up, so a scenario can account for every row it wrote. */
  warmup: { responses: number, responses2xx: number, non2xx: number, errors: number }
  /** With a builder: the indices built, `first` up to but excluding `next` (a few never sent). */
  builtIndices?: { first: number, next: number }
  /** CPU seconds of the load process while autocannon ran (warm-up included). */
  loadCpuSeconds: number
  /**
   * With `cpu`: CPU seconds over the run of each account, of the load process (`load`), and of
   * the whole machine (`machine`, every core; beyond the accounts and `load` it holds the load
   * process's start-up, the harness, and whatever else ran on the machine).
   */
  cpuSeconds?: Record<string, number>
  /** The machine's 1-minute load average as the run ended: about 2 is the bench's own load (server
   *  and load process on two cores); well above it, other work shared the cores and the figures. */
  loadAverage1m: number
  connections: number
  durationS: number
}

/** Where each builder reference's next run starts; one per scenario file. */
export type BuilderIndices = Map<string, number>

function builderKey (builder: ModuleExport): string {
  return JSON.stringify([builder.module, builder.export, builder.options ?? null])
}

/** Runs autocannon in its own process against `options.url` and returns its figures. */
export async function runLoad (options: LoadOptions, settings: BenchSettings, indices: BuilderIndices = new Map()): Promise<LoadResult> {
  const sources = [options.request, options.sequence, options.builder].filter((source) => source !== undefined)
  if (sources.length !== 1) throw new Error('give a load run exactly one of request, sequence or builder')
  if (options.sequence?.length === 0) throw new Error('a load sequence needs at least one request')
  const job: LoadJob = {
    url: options.url,
    ...(options.request ? { request: options.request } : {}),
    ...(options.sequence ? { sequence: options.sequence } : {}),
    ...(options.builder ? { builder: options.builder } : {}),
    firstIndex: options.builder ? indices.get(builderKey(options.builder)) ?? 0 : 0,
    connections: options.connections ?? settings.connections,
    durationS: options.durationS ?? settings.durationS,
    warmupS: options.warmupS ?? settings.warmupS,
    timeoutS: options.timeoutS ?? 10
  }
  const accounting = options.cpu ? await startCpuAccounting(options.cpu) : undefined
  const machineBefore = await machineBusySeconds()
  const runner = startTsxChild<Omit<LoadResult, 'loadAverage1m' | 'cpuSeconds'>>(RUNNER_ENTRY, job)
  try {
    const reply = await runner.reply
    const cpuSeconds = accounting
      ? { ...await accounting.stop(), load: reply.loadCpuSeconds, machine: Math.round((await machineBusySeconds() - machineBefore) * 100) / 100 }
      : undefined
    const result = { ...reply, ...(cpuSeconds ? { cpuSeconds } : {}), loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 }
    if (options.builder && result.builtIndices) indices.set(builderKey(options.builder), result.builtIndices.next)
    return result
  } finally {
    await runner.stop()
  }
}

function mean (values: number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((sum, value) => sum + value, 0) / values.length * 100) / 100
}

function sum (values: number[]): number {
  return Math.round(values.reduce((total, value) => total + value, 0) * 100) / 100
}

function sumRecords (records: Array<Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {}
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) total[key] = sum([total[key] ?? 0, value])
  }
  return total
}

/**
 * Several runs of the same load as one: rates and latency percentiles are the means of the runs'
 * (percentiles of separate histograms cannot be merged exactly), counts are added up.
 */
export function combineResults (results: LoadResult[]): LoadResult {
  const [first] = results
  if (!first) throw new Error('nothing to combine')
  if (results.length === 1) return first
  const statusCodes: Record<string, number> = {}
  for (const result of results) {
    for (const [code, count] of Object.entries(result.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count
  }
  return {
    reqPerSec: mean(results.map((result) => result.reqPerSec)),
    p50Ms: mean(results.map((result) => result.p50Ms)),
    p90Ms: mean(results.map((result) => result.p90Ms)),
    p99Ms: mean(results.map((result) => result.p99Ms)),
    maxMs: Math.max(...results.map((result) => result.maxMs)),
    errors: sum(results.map((result) => result.errors)),
    timeouts: sum(results.map((result) => result.timeouts)),
    non2xx: sum(results.map((result) => result.non2xx)),
    responses: sum(results.map((result) => result.responses)),
    responses2xx: sum(results.map((result) => result.responses2xx)),
    statusCodes,
    warmup: {
      responses: sum(results.map((result) => result.warmup.responses)),
      responses2xx: sum(results.map((result) => result.warmup.responses2xx)),
      non2xx: sum(results.map((result) => result.warmup.non2xx)),
      errors: sum(results.map((result) => result.warmup.errors))
    },
    loadAverage1m: Math.max(...results.map((result) => result.loadAverage1m)),
    loadCpuSeconds: sum(results.map((result) => result.loadCpuSeconds)),
    ...(first.cpuSeconds ? { cpuSeconds: sumRecords(results.map((result) => result.cpuSeconds ?? {})) } : {}),
    ...(first.builtIndices ? { builtIndices: { first: first.builtIndices.first, next: results.at(-1)?.builtIndices?.next ?? first.builtIndices.next } } : {}),
    connections: first.connections,
    durationS: sum(results.map((result) => result.durationS))
  }
}
