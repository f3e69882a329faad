import type { BaselineRoutes } from './baseline.js'

// Baselines every scenario can compare with. Scenario-specific ones (the same SQL statement the
// service runs, say) live in the scenario file.

export const noopRoutes: BaselineRoutes = (app) => {
  app.get('/noop', async (_request, reply) => reply.code(204).send())
  app.post('/noop', async (_request, reply) => reply.code(204).send())
}

export const pgSelectRoutes: BaselineRoutes = (app, { pool }) => {
  const db = pool()
  app.get('/pg/select-1', async (_request, reply) => {
    await db.query('SELECT 1')
    return reply.code(204).send()
  })
}
