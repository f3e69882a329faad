import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { createDatabase, type Database } from '../../src/db/database.js'

export interface TestDatabase {
  url: string
  name: string
  db: Database
  /** Closes the pool and drops the database. */
  drop (): Promise<void>
}

function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/**
 * A fresh, migrated database of this test file's own, cloned from the suite's template: files
 * run in parallel without seeing each other's rows.
 */
export async function createTestDatabase (options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl')
  const template = inject('templateDatabase')
  const name = `${template.replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)
  } finally {
    await admin.end()
  }
  const url = withDatabase(adminUrl, name)
  const db = createDatabase(url, { poolSize: options.poolSize ?? 10 })
  return {
    url,
    name,
    db,
    async drop () {
      await db.close()
      const cleanup = new pg.Client({ connectionString: adminUrl })
      await cleanup.connect()
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await cleanup.end()
      }
    }
  }
}
