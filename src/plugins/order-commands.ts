import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { providers } from '../providers/index.js'
import { OrderCommands, UpstreamFailureError } from '../services/order-commands.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Create, read-through, track and force sync: the merchant commands that reach an upstream. */
    orderCommands: OrderCommands
  }
}

/**
 * Decorates the app with the order commands, shared by the command routes and the read routes'
 * read-through. An upstream failure that asked the mirror to wait carries Retry-After to the
 * merchant, whichever route met it.
 */
export const orderCommandsPlugin = fp(async function orderCommandsPlugin (app: FastifyInstance) {
  const placeholderStatuses = new Map(providers.map((provider) => [provider.name, provider.api?.placeholderStatus ?? 'pending']))
  app.decorate('orderCommands', new OrderCommands({
    db: app.db,
    sync: app.orderSync,
    upstreams: app.upstreams,
    placeholderStatus: (provider) => placeholderStatuses.get(provider) ?? 'pending'
  }))

  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof UpstreamFailureError && error.retryAfterSeconds !== null) {
      reply.header('retry-after', String(error.retryAfterSeconds))
    }
  })
}, { name: 'order-commands', dependencies: ['database', 'upstreams', 'order-sync'] })
