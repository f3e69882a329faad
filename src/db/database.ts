import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'

// PostgreSQL `numeric` (1700) and `int8` (20) come back as strings from pg by default: keep them
// as strings (exact money, ids beyond 2^53); timestamps stay Date objects.

/**
 * One pg pool shared by Prisma (through its driver adapter) and by the hot paths that run a
 * single hand-written statement, so the service never holds two pools against one database.
 */
export interface Database {
  pool: pg.Pool
  prisma: PrismaClient
  close (): Promise<void>
}

export interface DatabaseOptions {
  poolSize?: number
  /** How long a request waits for a free connection before the database counts as unavailable. */
  connectionTimeoutMs?: number
  /**
   * PostgreSQL cancels any statement on a pooled connection that runs longer (0: never), so one
   * slow query or lock wait cannot hold a connection indefinitely.
   */
  statementTimeoutMs?: number
  /** Tag visible in pg_stat_activity. */
  applicationName?: string
}

export function createDatabase (databaseUrl: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
    application_name: options.applicationName ?? 'order-mirror'
  })
  // An idle client losing its server (restart, failover) emits here; without a listener the
  // process would crash. The next query reconnects.
  pool.on('error', () => {})
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  let closed = false
  return {
    pool,
    prisma,
    async close () {
      if (closed) return
      closed = true
      await prisma.$disconnect()
      await pool.end()
    }
  }
}

const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])

/**
 * True when an error means "the database cannot be reached right now" rather than "this query is
 * wrong": callers answer 503 so the sender retries instead of being told its request was bad.
 */
export function isDatabaseUnavailable (error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const err = error as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown }
  const code = typeof err.code === 'string' ? err.code : ''
  // 08xxx connection exceptions, 57P0x operator intervention (shutdown), 57014 a statement
  // cancelled by its statement_timeout (too slow now, worth a retry), 53300 too many connections
  if (code.startsWith('08') || code.startsWith('57') || code === '53300') return true
  if (UNAVAILABLE_NODE_CODES.has(code)) return true
  // Prisma's driver-adapter errors wrap the pg error
  if (code === 'P1001' || code === 'P1002' || code === 'P1017' || code === 'P2024') return true
  const message = typeof err.message === 'string' ? err.message : ''
  if (/timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(message)) return true
  if (Array.isArray(err.errors) && err.errors.some(isDatabaseUnavailable)) return true
  return err.cause !== undefined && err.cause !== error && isDatabaseUnavailable(err.cause)
}

/**
 * True when PostgreSQL refused a value rather than the statement or the connection: a data
 * exception (class 22: bad encoding, out of range, bad escape) or a program limit (class 54: too
 * deep, too long). The input is at fault, so retrying it can never succeed.
 */
export function isDataException (error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code)
}

/**
 * Runs `work` on one pooled connection whose statements PostgreSQL cancels after `timeoutMs`. For
 * probes: when the time is up the query is cancelled on the server, not left running on a pooled
 * connection behind an answer that has already been given. The connection gets the pool's own
 * setting back afterwards, or is discarded if that fails.
 */
export async function withStatementTimeout<T> (pool: pg.Pool, timeoutMs: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query(`SET statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))}`)
    return await work(client)
  } finally {
    await client.query('RESET statement_timeout').catch((error: Error) => { broken = error })
    client.release(broken)
  }
}
