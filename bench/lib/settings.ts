/** Load settings shared by every measurement of a run, so the service and its baselines see the same load. */
export interface BenchSettings {
  /** Measured seconds per load run (`BENCH_DURATION_S`, default 10). */
  durationS: number
  /** Concurrent connections (`BENCH_CONNECTIONS`, default 50). */
  connections: number
  /** Unmeasured seconds before each run, for JIT and pool warm-up (`BENCH_WARMUP_S`, default 2). */
  warmupS: number
  /** Alternating baseline/measured rounds per comparison (`BENCH_ROUNDS`, default 2). */
  rounds: number
  /** True below the published settings (10 s, 50 connections): figures for a check, not to commit. */
  smoke: boolean
}

export const PUBLISHED_DURATION_S = 10
export const PUBLISHED_CONNECTIONS = 50

function positiveNumber (env: Record<string, string | undefined>, name: string, fallback: number, { allowZero = false } = {}): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(raw)}`)
  }
  return value
}

export function readSettings (env: Record<string, string | undefined> = process.env): BenchSettings {
  const durationS = positiveNumber(env, 'BENCH_DURATION_S', PUBLISHED_DURATION_S)
  const connections = Math.round(positiveNumber(env, 'BENCH_CONNECTIONS', PUBLISHED_CONNECTIONS))
  const warmupS = positiveNumber(env, 'BENCH_WARMUP_S', 2, { allowZero: true })
  const rounds = Math.round(positiveNumber(env, 'BENCH_ROUNDS', 2))
  return {
    durationS,
    connections,
    warmupS,
    rounds,
    smoke: durationS < PUBLISHED_DURATION_S || connections < PUBLISHED_CONNECTIONS
  }
}
