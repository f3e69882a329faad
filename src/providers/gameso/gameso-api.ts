import type { Config } from '../../config.js'
import type { ProviderApi, UpstreamClientDependencies, UpstreamConnection } from '../provider-module.js'
import { bindConnection } from '../upstream-connection.js'
import { createGameSoClient, type GameSoClient } from './gameso-client.js'
import { DEFAULT_ITEM_QUANTITY, type GameSoCreateOrder } from './gameso-create-schemas.js'
import { gamesoOrderToSnapshot } from './gameso-mapping.js'

/** GameSO's client bound to its mapping, with its create. */
export function gamesoConnection (client: GameSoClient, limits: { maxRequestsPerSecond: number, timeoutMs: number }): UpstreamConnection {
  return bindConnection({
    provider: 'gameso',
    displayName: 'GameSO',
    referenceName: 'reference_id',
    client,
    limits,
    toSnapshot: gamesoOrderToSnapshot,
    creator: {
      request (body) {
        // The route validated the body with gamesoCreateOrderSchema.
        const order = body as GameSoCreateOrder
        return {
          reference: order.reference_id,
          userId: order.user_id,
          serverId: order.server_id ?? null,
          characterId: order.character_id ?? null,
          items: order.items.map((item) => ({ sku: item.sku, quantity: item.quantity ?? DEFAULT_ITEM_QUANTITY }))
        }
      },
      async create (body, options) {
        const answer = await client.createOrder(body, options)
        return {
          status: answer.status,
          rawBody: answer.rawBody,
          contentType: answer.contentType,
          snapshot: answer.order === null ? null : gamesoOrderToSnapshot(answer.order),
          errorCode: answer.error?.code ?? null,
          retryAfterMs: answer.retryAfterMs
        }
      }
    }
  })
}

export const gamesoApi: ProviderApi = {
  requires: 'GAMESO_API_KEY is not set',
  placeholderStatus: 'pending',
  connect (config: Config, deps: UpstreamClientDependencies) {
    const client = createGameSoClient(config.gameso, deps)
    return client === null ? null : gamesoConnection(client, config.gameso)
  }
}
