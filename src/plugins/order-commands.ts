import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OrderCommands, UpstreamFailureError } from '../services/order-commands.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Create, read-through, track and force sync: the merchant commands that reach GameSO. */
    orderCommands: OrderCommands
  }
}

/**
 * Decorates the app with the order commands, shared by the command routes and the read route's
 * read-through. A GameSO failure that asked the mirror to wait carries Retry-After to the
 * merchant, whichever route met it.
 */
export const orderCommandsPlugin = fp(async function orderCommandsPlugin (app: FastifyInstance) {
  app.decorate('orderCommands', new OrderCommands({
    db: app.db,
    sync: app.orderSync,
    gameso: app.gameso,
    createFirstPollDelayMs: app.config.gameso.timeoutMs
  }))

  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof UpstreamFailureError && error.retryAfterSeconds !== null) {
      reply.header('retry-after', String(error.retryAfterSeconds))
    }
  })
}, { name: 'order-commands', dependencies: ['database', 'gameso', 'order-sync'] })
