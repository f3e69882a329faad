import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { pino } from 'pino'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { migrate } from '../../src/db/migrator.js'

const run = promisify(execFile)

const MACHINE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres'

/** A PostgreSQL server the run creates its databases on. */
export interface PostgresServer {
  /** URL of a database on it with rights to create databases. */
  adminUrl: string
  /** Where it came from, for the run's header. */
  origin: 'BENCH_DATABASE_URL' | 'machine PostgreSQL on 127.0.0.1:5432' | 'embedded PostgreSQL'
  stop (): Promise<void>
}

async function machinePostgresAnswers (): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'], { timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/**
 * BENCH_DATABASE_URL if set; else the machine's PostgreSQL when pg_isready answers on
 * 127.0.0.1:5432; else an embedded PostgreSQL in a temporary directory, removed by stop().
 */
export async function providePostgres (env: Record<string, string | undefined> = process.env): Promise<PostgresServer> {
  const configured = env.BENCH_DATABASE_URL?.trim()
  if (configured) return { adminUrl: configured, origin: 'BENCH_DATABASE_URL', stop: async () => {} }
  if (await machinePostgresAnswers()) return { adminUrl: MACHINE_URL, origin: 'machine PostgreSQL on 127.0.0.1:5432', stop: async () => {} }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'order-mirror-bench-'))
  // As root the cluster runs as the postgres system user, which must reach the directory.
  await chmod(dir, 0o755)
  const port = 20000 + Math.floor(Math.random() * 20000)
  const handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port, log: pino({ level: 'silent' }) })
  return {
    adminUrl: handle.url,
    origin: 'embedded PostgreSQL',
    async stop () {
      await handle.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** A fresh, migrated database of one scenario file's own. */
export interface BenchDatabase {
  name: string
  url: string
  /** A small pool (4) for seeding and verifying; the service and baselines open their own. */
  pool: pg.Pool
  /** Closes the pool and drops the database, whoever is still connected. */
  drop (): Promise<void>
}

function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

async function onAdmin (server: PostgresServer, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: server.adminUrl })
  await admin.connect()
  try {
    await admin.query(sql)
  } finally {
    await admin.end()
  }
}

/** Creates `om_bench_<label>_<random>` on the server and applies every migration to it. */
export async function createBenchDatabase (server: PostgresServer, label: string): Promise<BenchDatabase> {
  const name = `om_bench_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`
  await onAdmin(server, `CREATE DATABASE "${name}"`)
  const url = withDatabase(server.adminUrl, name)
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'order-mirror-bench' })
  pool.on('error', () => {})
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    await pool.end()
    await onAdmin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }
  try {
    await migrate(pool)
  } catch (error) {
    await drop()
    throw error
  }
  return { name, url, pool, drop }
}
