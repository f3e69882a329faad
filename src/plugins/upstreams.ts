import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Provider } from '../domain/order.js'
import { providers } from '../providers/index.js'
import type { UpstreamConnection, UpstreamLookup } from '../providers/provider-module.js'

/** Each provider with an order API: its connection, or why it has none in this instance. */
export interface Upstreams extends UpstreamLookup {
  /** The connections, in registry order; a provider without credentials has none. */
  readonly connected: readonly UpstreamConnection[]
  /** The providers that have an order API at all, connected or not. */
  readonly withApi: readonly Provider[]
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * One client per upstream for this instance, shared by the reconciler and the request path so
     * each upstream's rate limit and 429 pauses cover every call to it.
     */
    upstreams: Upstreams
  }
}

export const upstreamsPlugin = fp(async function upstreamsPlugin (app: FastifyInstance) {
  const connections = new Map<Provider, UpstreamConnection>()
  const reasons = new Map<Provider, string>()
  for (const provider of providers) {
    const { api } = provider
    if (api === undefined) continue
    const connection = api.connect(app.config, { log: app.log.child({ component: `${provider.name}-client` }), metrics: app.metrics })
    if (connection === null) reasons.set(provider.name, api.requires)
    else connections.set(provider.name, connection)
  }
  const upstreams: Upstreams = {
    connected: [...connections.values()],
    get: (provider) => connections.get(provider) ?? null,
    disabledReason: (provider) => reasons.get(provider) ?? (connections.has(provider) ? null : 'it has no order API'),
    displayName: (provider) => providers.find((module) => module.name === provider)?.displayName ?? provider,
    withApi: providers.filter((provider) => provider.api !== undefined).map((provider) => provider.name)
  }
  app.decorate('upstreams', upstreams)
  app.addHook('onClose', async () => {
    await Promise.all(upstreams.connected.map((connection) => connection.client.close()))
  })
}, { name: 'upstreams' })
