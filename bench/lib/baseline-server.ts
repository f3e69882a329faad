// A baseline server's process: a bare Fastify app with the routes the scenario named, listening
// on a loopback port it reports back. Started by startBaseline(); not meant to be run by hand.
import Fastify from 'fastify'
import pg from 'pg'
import type { BaselineJob, BaselineRoutes } from './baseline.js'
import { serveParent } from './child-process.js'
import { importExport } from './module-export.js'

let close: () => Promise<void> = async () => {}

async function start (job: BaselineJob): Promise<{ port: number }> {
  const app = Fastify({ logger: false })
  const pool = job.databaseUrl
    ? new pg.Pool({ connectionString: job.databaseUrl, max: job.poolSize, application_name: 'order-mirror-bench-baseline' })
    : undefined
  close = async () => {
    await app.close()
    await pool?.end()
  }
  for (const ref of job.routes) {
    const register = await importExport<BaselineRoutes<unknown>>(ref)
    await register(app, {
      pool: () => {
        if (!pool) throw new Error(`${ref.export} needs a database: pass databaseUrl to startBaseline`)
        return pool
      },
      options: ref.options
    })
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('baseline server has no TCP address')
  return { port: address.port }
}

function shutdown () {
  close().then(() => process.exit(), () => process.exit(1))
}

process.once('SIGTERM', shutdown)
serveParent(start, { onDisconnect: shutdown })
