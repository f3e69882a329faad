import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.js'
import type { OrderSnapshot, Provider } from '../domain/order.js'
import type { RouteExamples } from '../docs/route-example-types.js'
import type { OrderAtChange } from '../domain/order-change.js'
import type { SimulatorPersonality } from '../simulator/personality.js'
import type { UpstreamMetrics } from '../upstream/http-exchange.js'
import type { UpstreamCallerOptions } from '../upstream/upstream-caller.js'
import type { CallOptions, FetchOrderResult, UpstreamOrderClient } from '../upstream/upstream-client.js'
import type { LocalCredentialsPart } from './local-credentials-part.js'
import type { ProviderDemo } from './provider-demo.js'
import type { ProviderWebhook } from './provider-webhook.js'
import type { SampleWebhookSender } from './sample-webhook.js'

/**
 * Everything the codebase knows about one upstream, as one value. Generic code iterates the
 * registry (`providers/index.ts`) instead of asking which upstream it is talking to.
 */
export interface ProviderModule<Personality extends SimulatorPersonality = SimulatorPersonality> {
  /** The provider's key: in stored orders, in paths such as `/_control/<name>/…`. */
  readonly name: Provider
  /** How people write it, for logs and docs. */
  readonly displayName: string
  /** How the simulator plays this upstream. */
  readonly simulator: Personality
  /** How it pushes changes: route, signature, envelopes, mapping and replies. */
  readonly webhook: ProviderWebhook
  /** How `npm run send` and the sandbox act as this upstream: build, sign and post its webhooks. */
  readonly sample: SampleWebhookSender
  /** What a zero-configuration start keeps for it in `.data/credentials.json`, standing in for its unset key. */
  readonly localCredentials: LocalCredentialsPart
  /** Its merchant routes at the upstream's own paths, in its shapes. */
  readonly routes: ProviderRoutes
  /** What /docs shows for this provider's routes, by `METHOD /path`. */
  readonly routeExamples: Readonly<Record<string, RouteExamples>>
  /** The upstream's order API, for providers the mirror can ask about an order (poll, read-through, sync, track). */
  readonly api?: ProviderApi
  /**
   * The order as it was at a status change, in this provider's read shape: the `data` of the
   * merchant webhook event (`order.<canonical status>`) and the `order` of the changes feed.
   */
  readonly presentChange: (order: OrderAtChange) => object
  /** How `npm run demo` plays this upstream; a provider without one is left out of the demo. */
  readonly demo?: ProviderDemo
}

/**
 * A provider's merchant routes (SPEC §2.2): the app registers every provider's inside the
 * merchant scope (API key, rate limit), before the generic merchant routes.
 */
export interface ProviderRoutes {
  readonly merchant: readonly FastifyPluginAsync[]
  /**
   * Each in a merchant scope of its own: a route that answers every error, the scope's 401 and
   * 429 included, in its upstream's shape sets an error handler no other route may share.
   */
  readonly ownErrorShape: readonly FastifyPluginAsync[]
}

/** What building a provider's client needs from the app. */
export interface UpstreamClientDependencies {
  log: UpstreamCallerOptions['log']
  metrics?: UpstreamMetrics | undefined
}

/** The part of a provider module that talks to the upstream's order API. */
export interface ProviderApi {
  /** Said when the client is off (readiness, start log, 503 to a command): which variables turn it on. */
  readonly requires: string
  /** Provider status a followed order has before the upstream has said anything about it. */
  readonly placeholderStatus: string
  /** The provider's client for this configuration, or null when its credentials are not set. */
  connect (config: Config, deps: UpstreamClientDependencies): UpstreamConnection | null
}

/**
 * One provider's client, bound to its mapping: generic code (reconciler, read-through, sync,
 * track) fetches canonical snapshots and never sees the upstream's own order type. One
 * connection per provider per process, so its rate limit covers every call.
 */
export interface UpstreamConnection {
  readonly provider: OrderSnapshot['provider']
  readonly displayName: string
  /** What the upstream calls an order's reference, for messages (`reference_id`, `payment_order_id`). */
  readonly referenceName: string
  /** The client itself, for the calls only this provider has (a create). */
  readonly client: UpstreamOrderClient<unknown>
  /** The client's own limits, which size the reconciler's lease. */
  readonly maxRequestsPerSecond: number
  readonly timeoutMs: number
  fetchSnapshot (reference: string, options?: CallOptions): Promise<FetchOrderResult<OrderSnapshot>>
  /** Creating an order through the mirror, where the upstream has it. */
  readonly creator?: OrderCreator
}

/** What a create asked for, recorded on the placeholder before the upstream hears of it. */
export interface CreateRequest {
  reference: string
  userId: string
  serverId: string | null
  characterId: string | null
  items: ReadonlyArray<{ sku: string, quantity: number }>
}

/** The upstream's answer to a create, kept as it came so the mirror can relay it unchanged. */
export interface CreateAnswer {
  status: number
  rawBody: string
  contentType: string | null
  /** The created order, when the answer carried a valid one. */
  snapshot: OrderSnapshot | null
  /** The upstream's error code, when the answer was an error body. */
  errorCode: string | null
  /** Set on a 429: how long the upstream asked the mirror to wait. */
  retryAfterMs: number | null
}

export interface OrderCreator {
  /** The create body (validated by the route's schema) as the placeholder records it. */
  request (body: Readonly<Record<string, unknown>>): CreateRequest
  create (body: Readonly<Record<string, unknown>>, options?: CallOptions): Promise<CreateAnswer>
}

/** How services find a provider's connection without knowing how the app built it. */
export interface UpstreamLookup {
  get (provider: OrderSnapshot['provider']): UpstreamConnection | null
  /** Why a provider has no connection here (its variables are unset); null when it has one. */
  disabledReason (provider: OrderSnapshot['provider']): string | null
  displayName (provider: OrderSnapshot['provider']): string
}
