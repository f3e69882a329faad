import { startBaseline, type BaselineOptions, type RunningBaseline } from './baseline.js'
import { createBenchDatabase, type BenchDatabase, type PostgresServer } from './database.js'
import { combineResults, runLoad, type BuilderIndices, type LoadOptions, type LoadResult } from './load.js'
import { resultRow, type ResultRow } from './results.js'
import { startBuiltService, type RunningService } from './service.js'
import type { BenchSettings } from './settings.js'

export interface StartServiceOptions {
  /** Defaults to the file's database. */
  database?: BenchDatabase
  /** Service environment (API_KEYS, RATE_LIMIT_MAX, …); DATABASE_URL comes from `database`. */
  env?: Record<string, string>
  readyTimeoutMs?: number
}

export interface StartBaselineOptions extends Omit<BaselineOptions, 'databaseUrl'> {
  /** The database `deps.pool()` connects to; none means the routes need none. */
  database?: BenchDatabase
}

export interface CompareOptions {
  measured: LoadOptions
  /** The baseline's load, and the name rows show for it. */
  baseline: LoadOptions & { name: string }
  /** Alternating rounds, baseline first; defaults to settings.rounds. */
  rounds?: number
}

/** Spreads straight into ctx.row: `ctx.row(name, c.measured, c.baseline, { roundRatios: c.roundRatios })`. */
export interface Comparison {
  /** The measured rounds combined (see combineResults). */
  measured: LoadResult
  baseline: { name: string, result: LoadResult }
  /** Each round's measured req/s ÷ the baseline req/s of the same round (adjacent in time). */
  roundRatios: number[]
}

/** Everything a scenario file gets. What it starts through here is stopped after it returns. */
export interface BenchContext {
  /** The scenario file's name without `.ts`; results go to bench/results/<file>.json. */
  file: string
  settings: BenchSettings
  /** A fresh database, migrated, of this file's own; dropped after the file has run. */
  database: BenchDatabase
  /** Another fresh, migrated database (dropped after the file), e.g. to keep a baseline's rows apart. */
  createDatabase (label: string): Promise<BenchDatabase>
  /** The built service (dist/server.js) in its own process, ready. */
  startService (options?: StartServiceOptions): Promise<RunningService>
  /** A bare Fastify server in its own process with the routes named in `options.routes`. */
  startBaseline (options: StartBaselineOptions): Promise<RunningBaseline>
  /** autocannon in its own process; connections, duration and warm-up default to the settings. */
  autocannon (options: LoadOptions): Promise<LoadResult>
  /**
   * Measures baseline and measured load alternately, `rounds` times each, so a burst of
   * background load on the machine falls on both sides rather than on one.
   */
  compare (options: CompareOptions): Promise<Comparison>
  /** A result row: ratio = measured req/s ÷ baseline req/s from this same run. */
  row (scenario: string, measured: LoadResult, baseline: { name: string, result: LoadResult }, extra?: Record<string, unknown>): ResultRow
  log (message: string, fields?: Record<string, unknown>): void
}

export interface ScenarioFile {
  default: (ctx: BenchContext) => Promise<ResultRow[]>
}

/** A context plus the clean-up of everything started through it, last started first stopped. */
export interface OwnedContext {
  ctx: BenchContext
  cleanUp (): Promise<void>
}

export async function createContext (file: string, server: PostgresServer, settings: BenchSettings, log: BenchContext['log']): Promise<OwnedContext> {
  const cleanUps: Array<() => Promise<void>> = []
  const own = <T extends { stop?: () => Promise<unknown>, drop?: () => Promise<void> }>(resource: T): T => {
    cleanUps.push(async () => {
      if (resource.stop) await resource.stop()
      if (resource.drop) await resource.drop()
    })
    return resource
  }
  const createDatabase = async (label: string) => own(await createBenchDatabase(server, label))
  const indices: BuilderIndices = new Map()
  const load = (options: LoadOptions) => runLoad(options, settings, indices)
  const database = await createDatabase(file)

  const ctx: BenchContext = {
    file,
    settings,
    database,
    createDatabase,
    startService: async (options = {}) => own(await startBuiltService({
      databaseUrl: (options.database ?? database).url,
      ...(options.env ? { env: options.env } : {}),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs })
    })),
    startBaseline: async ({ database: baselineDatabase, ...options }) => own(await startBaseline({
      ...options,
      ...(baselineDatabase ? { databaseUrl: baselineDatabase.url } : {})
    })),
    autocannon: load,
    compare: async ({ measured, baseline: { name, ...baseline }, rounds = settings.rounds }) => {
      const measuredRuns: LoadResult[] = []
      const baselineRuns: LoadResult[] = []
      // Baseline first in odd rounds, measured first in even ones: a drift in the machine's speed
      // over the comparison then weighs on both sides alike.
      for (let round = 1; round <= rounds; round++) {
        log(`round ${round} of ${rounds}: ${name} and the measured load`)
        if (round % 2 === 1) {
          baselineRuns.push(await load(baseline))
          measuredRuns.push(await load(measured))
        } else {
          measuredRuns.push(await load(measured))
          baselineRuns.push(await load(baseline))
        }
      }
      return {
        measured: combineResults(measuredRuns),
        baseline: { name, result: combineResults(baselineRuns) },
        roundRatios: measuredRuns.map((run, index) => {
          const paired = baselineRuns[index]?.reqPerSec ?? 0
          return paired > 0 ? Math.round(run.reqPerSec / paired * 1000) / 1000 : 0
        })
      }
    },
    row: resultRow,
    log
  }

  // Once only: an interrupt may ask for it while the file's own clean-up is under way.
  let cleaning: Promise<void> | undefined
  const cleanUp = async () => {
    const failures: unknown[] = []
    for (const step of [...cleanUps].reverse()) {
      try {
        await step()
      } catch (error) {
        failures.push(error)
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `${file}: clean-up failed`)
  }
  return { ctx, cleanUp: () => (cleaning ??= cleanUp()) }
}
