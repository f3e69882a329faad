// `npm run bench [-- <scenario-file> …]`: runs every bench/*.ts scenario file (or the named ones)
// one after another on one PostgreSQL, each with a fresh database, writes
// bench/results/<file>.json and prints a table per file.
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createContext, type OwnedContext, type ScenarioFile } from './lib/context.js'
import { providePostgres, type PostgresServer } from './lib/database.js'
import { checkRows, formatTable, writeResults } from './lib/results.js'
import { PUBLISHED_CONNECTIONS, PUBLISHED_DURATION_S, readSettings } from './lib/settings.js'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const THIS_FILE = path.basename(fileURLToPath(import.meta.url))

function print (text: string) {
  process.stdout.write(`${text}\n`)
}

function logFor (file: string) {
  return (message: string, fields?: Record<string, unknown>) => {
    const time = new Date().toISOString().slice(11, 19)
    process.stderr.write(`${time} [${file}] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`)
  }
}

async function scenarioFiles (): Promise<string[]> {
  const entries = await readdir(BENCH_DIR, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && entry.name !== THIS_FILE)
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort()
}

/** `webhook-ingest`, `webhook-ingest.ts` and `bench/webhook-ingest.ts` all name the same file. */
function selectFiles (available: string[], requested: string[]): string[] {
  if (requested.length === 0) return available
  const names = requested.map((name) => path.basename(name).replace(/\.ts$/, ''))
  const unknown = names.filter((name) => !available.includes(name))
  if (unknown.length > 0) {
    throw new Error(`no scenario file named ${unknown.join(', ')}; available: ${available.join(', ') || 'none'}`)
  }
  return [...new Set(names)]
}

let current: OwnedContext | undefined
let server: PostgresServer | undefined

async function runFile (file: string, postgres: PostgresServer): Promise<void> {
  const log = logFor(file)
  const module = await import(pathToFileURL(path.join(BENCH_DIR, `${file}.ts`)).href) as Partial<ScenarioFile>
  if (typeof module.default !== 'function') throw new Error(`${file}.ts has no default export run(ctx)`)
  current = await createContext(file, postgres, readSettings(), log)
  try {
    log('running', { database: current.ctx.database.name })
    const rows = checkRows(file, await module.default(current.ctx))
    const target = await writeResults(file, rows)
    print(`\n${file} → ${path.relative(process.cwd(), target)}\n${formatTable(rows)}\n`)
  } finally {
    await current.cleanUp()
    current = undefined
  }
}

async function main () {
  const settings = readSettings()
  const files = selectFiles(await scenarioFiles(), process.argv.slice(2))
  server = await providePostgres()
  print(`bench: ${files.join(', ')} on ${server.origin}; ${settings.connections} connections, runs of ${settings.durationS} s after ${settings.warmupS} s warm-up, ${settings.rounds} round(s) per comparison, node ${process.version}`)
  if (settings.smoke) {
    print(`bench: smoke settings (published figures use ≥ ${PUBLISHED_DURATION_S} s and ${PUBLISHED_CONNECTIONS} connections): do not commit these results`)
  }
  const failed: string[] = []
  try {
    for (const file of files) {
      try {
        await runFile(file, server)
      } catch (error) {
        failed.push(file)
        logFor(file)(`failed: ${(error as Error).stack ?? String(error)}`)
      }
    }
  } finally {
    await server.stop()
    server = undefined
  }
  if (failed.length > 0) {
    print(`bench: ${failed.length} of ${files.length} scenario file(s) failed: ${failed.join(', ')}`)
    process.exitCode = 1
  }
}

// Ctrl-C: stop the service, baselines and load process, drop the databases, then leave.
process.once('SIGINT', () => {
  print('bench: interrupted, cleaning up')
  const cleanUp = async () => {
    await current?.cleanUp()
    await server?.stop()
  }
  cleanUp().finally(() => process.exit(130))
})

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
