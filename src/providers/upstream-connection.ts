import type { OrderSnapshot } from '../domain/order.js'
import type { UpstreamOrderClient } from '../upstream/upstream-client.js'
import type { OrderCreator, UpstreamConnection } from './provider-module.js'

export interface ConnectionParts<Order> {
  provider: OrderSnapshot['provider']
  displayName: string
  referenceName: string
  client: UpstreamOrderClient<Order>
  limits: { maxRequestsPerSecond: number, timeoutMs: number }
  toSnapshot: (order: Order) => OrderSnapshot
  creator?: OrderCreator
}

/** A provider's client bound to its mapping, so callers get canonical snapshots and never its order type. */
export function bindConnection<Order> (parts: ConnectionParts<Order>): UpstreamConnection {
  const { client, toSnapshot } = parts
  return {
    provider: parts.provider,
    displayName: parts.displayName,
    referenceName: parts.referenceName,
    client,
    maxRequestsPerSecond: parts.limits.maxRequestsPerSecond,
    timeoutMs: parts.limits.timeoutMs,
    async fetchSnapshot (reference, options) {
      const result = await client.fetchOrder(reference, options)
      return result.found ? { found: true, order: toSnapshot(result.order) } : result
    },
    ...(parts.creator === undefined ? {} : { creator: parts.creator })
  }
}
