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
  checksum: string
}

export async function readMigrations (dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()
  return Promise.all(names.map(async (name) => {
    const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8')
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
  }))
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

async function appliedMigrationNames (client: pg.Pool | pg.PoolClient): Promise<Set<string> | null> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present")
  if (exists.rows[0]?.present !== true) return null
  const applied = await client.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL'
  )
  return new Set(applied.rows.map((row) => row.migration_name))
}

/** Names of migrations in the project that the database has not applied yet. */
export async function pendingMigrations (pool: pg.Pool | pg.PoolClient, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? await readMigrations()
  const applied = await appliedMigrationNames(pool) ?? new Set<string>()
  return all.filter((migration) => !applied.has(migration.name)).map((migration) => migration.name)
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: number
}

/**
 * Applies every pending migration, each in its own transaction. Safe when several instances start
 * at once: they queue on the advisory lock and the later ones find nothing left to do.
 */
export async function migrate (pool: pg.Pool, migrations?: Migration[]): Promise<MigrateResult> {
  const all = migrations ?? await readMigrations()
  // Fast path, no lock: a second start of an up-to-date database costs one query.
  const appliedBefore = await appliedMigrationNames(pool)
  if (appliedBefore !== null && all.every((migration) => appliedBefore.has(migration.name))) {
    return { applied: [], alreadyApplied: appliedBefore.size }
  }

  const client = await pool.connect()
  try {
    // A migration, and the wait for another instance's, may take longer than the pool's
    // statement_timeout allows a request; RESET gives the connection its pool setting back.
    await client.query('SET statement_timeout = 0')
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY])
    try {
      await client.query(CREATE_BOOKKEEPING_TABLE)
      const applied = await appliedMigrationNames(client) ?? new Set<string>()
      const done: string[] = []
      for (const migration of all) {
        if (applied.has(migration.name)) continue
        const id = randomUUID()
        await client.query('BEGIN')
        try {
          await client.query(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
            [id, migration.checksum, migration.name]
          )
          await client.query(migration.sql)
          await client.query(
            'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
            [id]
          )
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK')
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
        }
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
