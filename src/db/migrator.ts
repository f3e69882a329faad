import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

// Applies prisma/migrations in-process, writing the same `_prisma_migrations` bookkeeping as
// `prisma migrate deploy`, so either tool can be used on the same database. Written by hand
// because the Prisma 6.19 CLI, on the WebAssembly schema engine these machines must use, takes
// ≈12 s per run (a pending 10 s timer), which would dominate every start-up.

/** The advisory lock key `prisma migrate` itself takes, so the two never run at once. */
const PRISMA_MIGRATE_LOCK_KEY = 72707369

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

export interface Migration {
  name: string
  sql: string
  /** sha256 (hex) of migration.sql's bytes: what `prisma migrate` itself records. */
  checksum: string
}

export async function readMigrations (dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()
  return Promise.all(names.map(async (name) => {
    const bytes = await readFile(path.join(dir, name, 'migration.sql'))
    return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') }
  }))
}

/** The database and prisma/migrations disagree in a way only a person can settle; nothing was applied. */
export class MigrationError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MigrationError'
  }
}

const CREATE_BOOKKEEPING_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

interface BookkeepingRow {
  migration_name: string
  checksum: string
  finished_at: Date | null
  logs: string | null
  started_at: Date
}

/**
 * The rows that count, as `prisma migrate` reads them: a rolled-back row (`prisma migrate resolve
 * --rolled-back`) is history, anything else is either applied (finished) or failed (not finished).
 * Null when the database has never been migrated.
 */
async function bookkeeping (client: pg.Pool | pg.PoolClient): Promise<BookkeepingRow[] | null> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present")
  if (exists.rows[0]?.present !== true) return null
  const rows = await client.query<BookkeepingRow>(
    'SELECT migration_name, checksum, finished_at, logs, started_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at'
  )
  return rows.rows
}

/**
 * Names of the applied migrations, after refusing what must not be built on: a migration that
 * failed and was never resolved, or one whose file changed after it was applied (the database
 * then holds a schema no file describes).
 */
function appliedNames (rows: readonly BookkeepingRow[], migrations: readonly Migration[]): Set<string> {
  const failed = rows.find((row) => row.finished_at === null)
  if (failed) {
    const reason = failed.logs?.trim().split('\n')[0] ?? 'no log recorded'
    throw new MigrationError(`migration ${failed.migration_name} failed (started ${failed.started_at.toISOString()}: ${reason}) ` +
      'and no later migration is applied past it. Repair the database, then record what you did with ' +
      `\`npx prisma migrate resolve --rolled-back ${failed.migration_name}\` (it is applied again at the next start) ` +
      `or \`--applied ${failed.migration_name}\` (you completed it by hand).`)
  }
  const files = new Map(migrations.map((migration) => [migration.name, migration]))
  for (const row of rows) {
    const file = files.get(row.migration_name)
    if (file && file.checksum !== row.checksum) {
      throw new MigrationError(`migration ${row.migration_name} was changed after it was applied: its migration.sql has checksum ` +
        `${file.checksum}, the database recorded ${row.checksum}. Restore the file as it was applied and put the change ` +
        'in a new migration.')
    }
  }
  return new Set(rows.map((row) => row.migration_name))
}

/** Names of migrations in the project that the database has not applied yet. */
export async function pendingMigrations (pool: pg.Pool | pg.PoolClient, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? await readMigrations()
  const rows = await bookkeeping(pool) ?? []
  const applied = new Set(rows.filter((row) => row.finished_at !== null).map((row) => row.migration_name))
  return all.filter((migration) => !applied.has(migration.name)).map((migration) => migration.name)
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: number
}

/**
 * Applies every pending migration, each in its own transaction. Safe when several instances start
 * at once: they queue on the advisory lock and the later ones find nothing left to do. A migration
 * that fails is rolled back and recorded as Prisma records one (a row with its logs and no
 * finished_at), which stops every later start until a person resolves it.
 */
export async function migrate (pool: pg.Pool, migrations?: Migration[]): Promise<MigrateResult> {
  const all = migrations ?? await readMigrations()
  // Fast path, no lock: a second start of an up-to-date database costs one query.
  const before = await bookkeeping(pool)
  if (before !== null) {
    const applied = appliedNames(before, all)
    if (all.every((migration) => applied.has(migration.name))) return { applied: [], alreadyApplied: applied.size }
  }

  const client = await pool.connect()
  try {
    // A migration, and the wait for another instance's, may take longer than the pool's
    // statement_timeout allows a request; RESET gives the connection its pool setting back.
    await client.query('SET statement_timeout = 0')
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY])
    try {
      await client.query(CREATE_BOOKKEEPING_TABLE)
      const applied = appliedNames(await bookkeeping(client) ?? [], all)
      const done: string[] = []
      for (const migration of all) {
        if (applied.has(migration.name)) continue
        await applyOne(client, migration)
        done.push(migration.name)
      }
      return { applied: done, alreadyApplied: applied.size }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY])
    }
  } finally {
    await client.query('RESET statement_timeout').catch(() => {})
    client.release()
  }
}

async function applyOne (client: pg.PoolClient, migration: Migration): Promise<void> {
  const id = randomUUID()
  await client.query('BEGIN')
  try {
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name]
    )
    await client.query(migration.sql)
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK')
    // The rollback took the bookkeeping row with it: record the failure on its own, as Prisma would.
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs) VALUES ($1, $2, $3, now(), $4)',
      [id, migration.checksum, migration.name, (error as Error).message]
    )
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
  }
}
