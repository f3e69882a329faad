import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createGameSoClient, type GameSoClient } from '../providers/gameso/gameso-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The one GameSO client of this instance, shared by the reconciler and the request path so the
     * rate limit and the 429 pauses cover every call. Null when GAMESO_API_KEY is unset.
     */
    gameso: GameSoClient | null
  }
}

export const gamesoPlugin = fp(async function gamesoPlugin (app: FastifyInstance) {
  const client = createGameSoClient(app.config.gameso, { log: app.log.child({ component: 'gameso-client' }), metrics: app.metrics })
  app.decorate('gameso', client)
  app.addHook('onClose', async () => { await client?.close() })
}, { name: 'gameso' })
