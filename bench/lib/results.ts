import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LoadResult } from './load.js'

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))

/** One scenario's figures: the row written to bench/results/<file>.json and printed. */
export interface ResultRow {
  scenario: string
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  /** The same-run baseline this row is compared with. */
  baseline: string
  baselineReqPerSec: number
  /** reqPerSec / baselineReqPerSec: higher is better; only comparable within one run. */
  ratio: number
  errors: number
  non2xx: number
  connections: number
  durationS: number
  measuredAt: string
  /** Highest 1-minute load average seen at the end of a measured run (see LoadResult). */
  loadAverage1m: number
  /** Scenario-specific figures (rowsVerified, …). */
  [extra: string]: unknown
}

const CORE_FIELDS = ['scenario', 'reqPerSec', 'p50Ms', 'p99Ms', 'baseline', 'baselineReqPerSec', 'ratio', 'errors', 'non2xx', 'connections', 'durationS', 'measuredAt', 'loadAverage1m']

/** A row from the measured run and its baseline run; `extra` adds the scenario's own fields. */
export function resultRow (
  scenario: string,
  measured: LoadResult,
  baseline: { name: string, result: LoadResult },
  extra: Record<string, unknown> = {}
): ResultRow {
  const ratio = baseline.result.reqPerSec > 0 ? measured.reqPerSec / baseline.result.reqPerSec : 0
  return {
    scenario,
    reqPerSec: measured.reqPerSec,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    baseline: baseline.name,
    baselineReqPerSec: baseline.result.reqPerSec,
    ratio: Math.round(ratio * 1000) / 1000,
    errors: measured.errors,
    non2xx: measured.non2xx,
    connections: measured.connections,
    durationS: measured.durationS,
    measuredAt: new Date().toISOString(),
    loadAverage1m: Math.max(measured.loadAverage1m, baseline.result.loadAverage1m),
    ...extra
  }
}

/** Refuses rows a scenario built by hand without the fields every reader relies on. */
export function checkRows (file: string, rows: unknown): ResultRow[] {
  if (!Array.isArray(rows)) throw new Error(`${file}: run() must return an array of rows`)
  for (const [index, row] of rows.entries()) {
    const missing = CORE_FIELDS.filter((field) => row === null || typeof row !== 'object' || !(field in row))
    if (missing.length > 0) throw new Error(`${file}: row ${index} lacks ${missing.join(', ')} (build rows with ctx.row)`)
  }
  return rows as ResultRow[]
}

export async function writeResults (file: string, rows: ResultRow[]): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const target = path.join(RESULTS_DIR, `${file}.json`)
  await writeFile(target, `${JSON.stringify(rows, null, 2)}\n`)
  return target
}

function cell (value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2)
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

/** A plain-text table: the core figures as columns, scenario-specific fields as `name=value`. */
export function formatTable (rows: ResultRow[]): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'baseline', 'baseline req/s', 'ratio', 'errors', 'non2xx', 'load', 'extra']
  const body = rows.map((row) => [
    row.scenario,
    cell(row.reqPerSec),
    cell(row.p50Ms),
    cell(row.p99Ms),
    row.baseline,
    cell(row.baselineReqPerSec),
    row.ratio.toFixed(3),
    cell(row.errors),
    cell(row.non2xx),
    cell(row.loadAverage1m),
    Object.entries(row).filter(([key]) => !CORE_FIELDS.includes(key)).map(([key, value]) => `${key}=${cell(value)}`).join(' ')
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((line) => (line[column] ?? '').length)))
  const numeric = new Set([1, 2, 3, 5, 6, 7, 8, 9])
  const format = (line: string[]) => line
    .map((text, column) => numeric.has(column) ? text.padStart(widths[column] ?? 0) : text.padEnd(widths[column] ?? 0))
    .join('  ')
    .trimEnd()
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...body.map(format)].join('\n')
}
