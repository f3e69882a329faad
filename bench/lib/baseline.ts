import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type pg from 'pg'
import { startTsxChild } from './child-process.js'
import { moduleExport, type ModuleExport } from './module-export.js'

const SERVER_ENTRY = fileURLToPath(new URL('./baseline-server.ts', import.meta.url))

/** What a baseline's routes get besides the app. */
export interface BaselineDeps<O> {
  /** The baseline's own pg pool; throws when startBaseline was given no database. */
  pool (): pg.Pool
  /** The `options` of the ModuleExport that named these routes. */
  options: O
}

/**
 * Registers a baseline's routes on a bare Fastify app (no logger, no plugins): the floor the
 * service's own route is compared with. Export one from a scenario and name it with moduleExport.
 */
export type BaselineRoutes<O = undefined> = (app: FastifyInstance, deps: BaselineDeps<O>) => void | Promise<void>

export interface BaselineOptions {
  /** One or more route registrars, each imported in the baseline's process. */
  routes: ModuleExport | ModuleExport[]
  /** Connection string for `deps.pool()`. */
  databaseUrl?: string
  /** pg pool size; the service's default DATABASE_POOL_SIZE, so both queue alike. */
  poolSize?: number
}

/** The message the baseline process receives. */
export interface BaselineJob {
  routes: ModuleExport[]
  databaseUrl?: string
  poolSize: number
}

export interface RunningBaseline {
  url: string
  port: number
  /** The baseline server's process, for CPU accounting. */
  pid: number
  stop (): Promise<void>
}

/** Starts a minimal Fastify server with the given routes in its own process, like the service. */
export async function startBaseline (options: BaselineOptions): Promise<RunningBaseline> {
  const job: BaselineJob = {
    routes: Array.isArray(options.routes) ? options.routes : [options.routes],
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    poolSize: options.poolSize ?? 10
  }
  const server = startTsxChild<{ port: number }>(SERVER_ENTRY, job)
  try {
    const { port } = await server.reply
    return { url: `http://127.0.0.1:${port}`, port, pid: server.child.pid ?? 0, stop: () => server.stop() }
  } catch (error) {
    await server.stop()
    throw error
  }
}

const BUILT_IN_ROUTES = fileURLToPath(new URL('./baseline-routes.ts', import.meta.url))

/** `GET /noop` and `POST /noop` (JSON parsed, discarded) answering 204: Fastify's own ceiling. */
export const noopBaseline = moduleExport(BUILT_IN_ROUTES, 'noopRoutes')

/** `GET /pg/select-1`: one `SELECT 1` round trip through a pg pool, answering 204. */
export const pgSelectBaseline = moduleExport(BUILT_IN_ROUTES, 'pgSelectRoutes')
