import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate, MIGRATIONS_DIR, readMigrations, type Migration } from '../../src/db/migrator.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

// Each test gets a database the suite migrated with the project's migrations, and adds
// migrations of its own after them (names sort last), so nothing here touches prisma/migrations.

function migration (name: string, sql: string): Migration {
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
}

interface Row { migration_name: string, checksum: string, finished_at: Date | null, logs: string | null, rolled_back_at: Date | null }

describe('the migrator', () => {
  let database: TestDatabase
  let project: Migration[]

  beforeEach(async () => {
    database = await createTestDatabase({ poolSize: 2 })
    project = await readMigrations()
  })
  afterEach(async () => { await database.drop() })

  async function rows (): Promise<Row[]> {
    const result = await database.db.pool.query<Row>(
      'SELECT migration_name, checksum, finished_at, logs, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at, migration_name')
    return result.rows
  }

  async function tableExists (name: string): Promise<boolean> {
    const result = await database.db.pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name])
    return result.rows[0]?.present === true
  }

  it('records what prisma migrate records: one finished row per migration, checksum the sha256 of its file', async () => {
    const recorded = await rows()
    expect(recorded.map((row) => row.migration_name)).toEqual(project.map((entry) => entry.name))
    for (const row of recorded) {
      const bytes = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'))
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(row.finished_at).not.toBeNull()
    }
    await expect(migrate(database.db.pool, project)).resolves.toEqual({ applied: [], alreadyApplied: project.length })
  })

  it('refuses to start when an applied migration no longer matches its file, naming it, and applies nothing', async () => {
    const [first, ...rest] = project
    if (!first) throw new Error('the project has no migration')
    const edited = migration(first.name, `${first.sql}\n-- edited after it was applied\n`)
    const pending = migration('29990101000000_after_the_edit', 'CREATE TABLE after_the_edit (id int)')

    await expect(migrate(database.db.pool, [edited, ...rest, pending])).rejects.toThrow(
      new RegExp(`migration ${first.name} was changed after it was applied: its migration.sql has checksum ${edited.checksum}, the database recorded ${first.checksum}`))
    expect(await tableExists('after_the_edit')).toBe(false)
  })

  it('records a failed migration as Prisma does and refuses to go past it until it is resolved', async () => {
    const broken = migration('29990101000000_broken', 'CREATE TABLE half_done (id int);\nSELECT 1 / 0;')
    const next = migration('29990102000000_next', 'CREATE TABLE next_one (id int)')

    await expect(migrate(database.db.pool, [...project, broken, next])).rejects.toThrow('migration 29990101000000_broken failed: division by zero')
    // Rolled back whole (no half-made table), recorded with its logs and without finished_at.
    expect(await tableExists('half_done')).toBe(false)
    expect(await tableExists('next_one')).toBe(false)
    const failed = (await rows()).filter((row) => row.migration_name === broken.name)
    expect(failed).toEqual([expect.objectContaining({ checksum: broken.checksum, finished_at: null, rolled_back_at: null, logs: 'division by zero' })])

    // Every later start stops at it, whatever else is pending.
    const fixed = migration(broken.name, 'CREATE TABLE half_done (id int)')
    await expect(migrate(database.db.pool, [...project, fixed, next])).rejects.toThrow(
      /migration 29990101000000_broken failed \(started .*: division by zero\) and no later migration is applied past it.*prisma migrate resolve --rolled-back 29990101000000_broken/)
    expect(await tableExists('next_one')).toBe(false)

    // What `prisma migrate resolve --rolled-back` writes: then the fixed file is applied, and the rest.
    await database.db.pool.query('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL', [broken.name])
    await expect(migrate(database.db.pool, [...project, fixed, next])).resolves.toEqual({ applied: [fixed.name, next.name], alreadyApplied: project.length })
    expect(await tableExists('half_done')).toBe(true)
    expect(await tableExists('next_one')).toBe(true)
  })
})
