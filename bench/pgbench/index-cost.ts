// What each index of the hot tables costs the ingest, measured at the database alone: the same
// om_merge_batch load (20 new orders of 2 items per call, with inbox rows and history) on a fresh
// copy of the schema, first with every index, then without each one in turn. Reported per merged
// delivery: WAL bytes (deterministic; needs a server no one else writes to, since WAL is
// cluster-wide) and CPU of the PostgreSQL backends serving the load (from /proc, so it holds on a
// busy machine), with pgbench's rate for reference. The indexes are those the migrations leave
// (MIGRATIONS_DIR: another migrations directory, e.g. a copy without the newest ones).
//   npx tsx bench/pgbench/index-cost.ts postgresql://postgres@127.0.0.1:55439/postgres [transactions]
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { migrate, readMigrations } from '../../src/db/migrator.js'
import { processCpuSeconds } from '../lib/cpu.js'
import { mergeBatchScript } from './scripts.js'

const run = promisify(execFile)
const BATCH = 20
const CLIENTS = 4
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench'

/** The indexes a delivery pays for that are not the unique keys its upserts arbitrate on. */
const OPTIONAL_INDEXES = `
  SELECT i.indexname FROM pg_indexes i
   WHERE i.schemaname = 'public' AND i.tablename IN ('orders', 'order_items', 'webhook_inbox', 'order_status_history')
     AND i.indexname NOT IN ('orders_pkey', 'orders_provider_reference_key', 'webhook_inbox_pkey', 'webhook_inbox_provider_body_sha256_key',
                             'order_items_pkey', 'order_items_order_id_position_key', 'order_status_history_pkey')
   ORDER BY i.tablename, i.indexname`

function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

async function main () {
  const adminUrl = process.argv[2] ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
  const transactions = Number(process.argv[3] ?? 300)
  const admin = new pg.Pool({ connectionString: adminUrl, max: 2 })
  const prefix = `om_indexcost_${randomBytes(3).toString('hex')}`
  const template = `${prefix}_template`
  await admin.query(`CREATE DATABASE "${template}"`)
  admin.on('error', () => {})
  const templatePool = new pg.Pool({ connectionString: withDatabase(adminUrl, template), max: 1 })
  await migrate(templatePool, await readMigrations(process.env.MIGRATIONS_DIR))
  const { rows: indexes } = await templatePool.query<{ indexname: string }>(OPTIONAL_INDEXES)
  const { rows: [items] } = await templatePool.query<{ present: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'order_items' AND column_name = 'id') AS present")
  await templatePool.end()
  const variants: Array<{ name: string, drop: string | null }> = [
    { name: 'every index', drop: null },
    ...indexes.map(({ indexname }) => ({ name: `without ${indexname}`, drop: `DROP INDEX "${indexname}"` })),
    ...(items?.present ? [{ name: 'without order_items.id (its sequence and key)', drop: 'ALTER TABLE order_items DROP COLUMN id' }] : [])
  ]
  const scriptDir = await mkdtemp(path.join(os.tmpdir(), 'om-index-cost-'))
  const script = path.join(scriptDir, 'merge.sql')
  await writeFile(script, mergeBatchScript(BATCH))
  const { hostname, port, username } = new URL(adminUrl)

  process.stdout.write(`| variant | WAL bytes / delivery | backend CPU µs / delivery | merges/s (pgbench, ${CLIENTS} clients) |\n|---|---|---|---|\n`)
  try {
    for (const variant of variants) {
      const name = `${prefix}_${variants.indexOf(variant)}`
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)
      const db = new pg.Pool({ connectionString: withDatabase(adminUrl, name), max: 1 })
      db.on('error', () => {})
      try {
        if (variant.drop) await db.query(variant.drop)
        const lsn = async () => (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn
        const walBefore = await lsn()
        // pgbench's connections are found by application name once they are open; their CPU is read when they end.
        const bench = run(PGBENCH, ['-h', hostname, '-p', port || '5432', '-U', username || 'postgres', '-n', '-M', 'prepared',
          '-c', String(CLIENTS), '-t', String(transactions), '-f', script, name], { env: { ...process.env, PGAPPNAME: 'om-index-cost' } })
        const cpu = new Map<number, number>()
        const state = { finished: false }
        bench.finally(() => { state.finished = true }).catch(() => {})
        while (!state.finished) {
          const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'om-index-cost'", [name])
          for (const { pid } of rows) cpu.set(pid, await processCpuSeconds(pid) ?? cpu.get(pid) ?? 0)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        const { stdout } = await bench
        const { rows: [wal] } = await db.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS bytes', [walBefore])
        const deliveries = transactions * CLIENTS * BATCH
        const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0)
        const cpuSeconds = [...cpu.values()].reduce((sum, value) => sum + value, 0)
        process.stdout.write(`| ${variant.name} | ${Math.round(Number(wal?.bytes ?? 0) / deliveries)} | ${Math.round(cpuSeconds * 1e6 / deliveries)} | ${Math.round(tps * BATCH)} |\n`)
      } finally {
        await db.end()
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      }
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`)
    await admin.end()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
