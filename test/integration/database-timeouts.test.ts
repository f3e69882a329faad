import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createDatabase, isDatabaseUnavailable } from '../../src/db/database.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

describe('database timeouts', () => {
  let database: TestDatabase

  beforeAll(async () => { database = await createTestDatabase() })
  afterAll(async () => { await database.drop() })

  it('a pooled statement running past statement_timeout is cancelled by PostgreSQL, and counts as unavailable', async () => {
    const db = createDatabase(database.url, { poolSize: 1, statementTimeoutMs: 100 })
    try {
      const error = await db.pool.query('SELECT pg_sleep(30)').then(() => null, (caught: unknown) => caught)
      expect(error).toMatchObject({ code: '57014' })
      expect(isDatabaseUnavailable(error)).toBe(true)
      // The connection is usable again at once: the statement is gone, not still running.
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await db.close()
    }
  })

  it('the readiness probe cancels its query when the database does not answer in time, rather than leaving it waiting', async () => {
    const app: FastifyInstance = await buildApp(testConfig(database.url), { db: database.db })
    await app.ready()
    const blocker = new pg.Client({ connectionString: database.url })
    await blocker.connect()
    try {
      // Holds the table the probe reads, so the probe's query waits on the lock.
      await blocker.query('BEGIN')
      await blocker.query('LOCK TABLE "_prisma_migrations" IN ACCESS EXCLUSIVE MODE')
      const response = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(response.statusCode).toBe(503)
      expect(response.json().checks.database).toEqual({ ready: false, error: expect.stringMatching(/statement timeout/) })
      const waiting = await blocker.query(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
      expect(waiting.rows[0].count).toBe(0)
    } finally {
      await blocker.query('ROLLBACK')
      await blocker.end()
      await app.close()
    }
  })
})
