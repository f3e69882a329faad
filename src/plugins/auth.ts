import { createHash, timingSafeEqual } from 'node:crypto'
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { AppError, UnauthorizedError, errorBodySchema } from '../errors.js'
import { connectRateLimitRedis, fallbackRateLimitStore, localRateLimitStore, sharedRateLimitStore } from './rate-limit-store.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Which configured key authenticated a merchant request: `key-1`, `key-2`, … in API_KEYS
     * order. Safe to log and to count by; the key itself never leaves the auth hook.
     */
    apiKeyId: string | null
  }
}

const API_KEY_HEADER = 'x-api-key'

function sha256 (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/**
 * Finds which configured key was presented, in time that depends neither on the presented key
 * nor on which key (if any) matches: both sides are hashed to one length for timingSafeEqual and
 * every key is compared, without an early exit.
 */
export function createApiKeyMatcher (keys: readonly string[]): (presented: string | undefined) => string | null {
  const digests = keys.map(sha256)
  return (presented) => {
    if (presented === undefined) return null
    const candidate = sha256(presented)
    let match: string | null = null
    for (const [index, digest] of digests.entries()) {
      if (timingSafeEqual(candidate, digest)) match = `key-${index + 1}`
    }
    return match
  }
}

/**
 * The one store every merchant scope of `app` counts in, so a key has one quota however many
 * scopes serve it (the OrderQuery drop-in has a scope of its own for its error shape). With
 * REDIS_URL every replica counts in one place, so N replicas allow the limit, not N times it.
 */
export async function merchantRateLimitStore (app: FastifyInstance): Promise<FastifyRateLimitStoreCtor> {
  const { redisUrl, redisKeyPrefix } = app.config.rateLimit
  if (redisUrl === undefined) return sharedRateLimitStore(localRateLimitStore())
  const redis = await connectRateLimitRedis(redisUrl, app.log)
  app.addHook('onClose', async () => { redis.disconnect() })
  return sharedRateLimitStore(fallbackRateLimitStore({ redis, keyPrefix: redisKeyPrefix, metrics: app.metrics, log: app.log }))
}

/** Registers the routes of the merchant API into the scope `merchantScope` hands them. */
export type MerchantRoutesRegistrar = (scope: FastifyInstance) => Promise<void>

/**
 * The merchant API's encapsulated scope: every route registered in it (directly or by plugins
 * registered on `scope`) requires a valid `X-API-Key` and is rate-limited per key, and its OpenAPI
 * entry shows the key and the 401 / 429 bodies. Routes outside — health, metrics, docs, webhooks —
 * see none of it.
 *
 * ```ts
 * const limits = await merchantRateLimitStore(app)
 * await merchantScope(app, limits, async (scope) => {
 *   await scope.register(orderRoutes)
 *   await scope.register(someMoreMerchantRoutes)
 * })
 * ```
 * A route can tune its own limit with `config: { rateLimit: { max, timeWindow } }`.
 */
export async function merchantScope (app: FastifyInstance, limits: FastifyRateLimitStoreCtor, register: MerchantRoutesRegistrar): Promise<void> {
  await app.register(async function merchantApi (scope) {
    const matchApiKey = createApiKeyMatcher(scope.config.apiKeys)
    const refused = scope.metrics.merchantRequestsRefusedTotal

    scope.decorateRequest('apiKeyId', null)

    scope.addHook('onRoute', (route) => {
      const schema = route.schema ?? {}
      route.schema = {
        ...schema,
        security: [{ apiKey: [] }],
        response: { 401: errorBodySchema, 429: errorBodySchema, ...(schema.response ?? {}) }
      }
    })

    // Runs before the rate limit's own onRequest hook (that one is attached per route, after the
    // scope's hooks), so a request without a valid key is refused before it can spend a quota.
    scope.addHook('onRequest', async (request) => {
      const header = request.headers[API_KEY_HEADER]
      request.apiKeyId = matchApiKey(typeof header === 'string' ? header : undefined)
      if (request.apiKeyId === null) {
        refused.inc({ reason: 'unauthorized' })
        request.log.debug({ reason: header === undefined ? 'no API key' : 'unknown API key' }, 'merchant request refused')
        throw new UnauthorizedError()
      }
    })

    await scope.register(rateLimit, {
      store: limits,
      max: scope.config.rateLimit.max,
      timeWindow: scope.config.rateLimit.windowMs,
      keyGenerator: (request) => request.apiKeyId ?? request.ip,
      onExceeded: (request) => {
        refused.inc({ reason: 'rate_limited' })
        request.log.debug({ apiKeyId: request.apiKeyId }, 'merchant request rate-limited')
      },
      errorResponseBuilder: (_request, context) =>
        new AppError(429, 'RATE_LIMITED', `Rate limit exceeded, retry in ${context.after}`)
    })

    await register(scope)
  })
}
