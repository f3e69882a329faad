import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import LocalStore from '@fastify/rate-limit/store/LocalStore.js'
import RedisStore, { type CountingStore } from '@fastify/rate-limit/store/RedisStore.js'
import { once } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import type { Metrics } from '../metrics/metrics.js'

export interface FallbackStoreDependencies {
  redis: Redis
  /** Prefix of every key this service writes to Redis. */
  keyPrefix: string
  metrics: Pick<Metrics, 'rateLimitStoreFallbackTotal' | 'rateLimitStoreDegraded'>
  log: FastifyBaseLogger
}

type RateLimitCallback = Parameters<FastifyRateLimitStore['incr']>[1]
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0]

/**
 * A @fastify/rate-limit store that counts in Redis, so every replica shares one count per key,
 * and falls back to counting in this process while Redis cannot answer: limits then hold per
 * instance — never no limit, never a 500 — until Redis answers again, which is tried on every
 * request once its connection is back. Written here because the plugin offers only `skipOnError`,
 * which would drop the limit altogether while Redis is away.
 */
export function fallbackRateLimitStore (deps: FallbackStoreDependencies): CountingStore {
  const shared = { degraded: false }

  function degrade (error: Error | null): void {
    deps.metrics.rateLimitStoreFallbackTotal.inc()
    if (shared.degraded) return
    shared.degraded = true
    deps.metrics.rateLimitStoreDegraded.set(1)
    deps.log.warn({ err: error ?? undefined, redisStatus: deps.redis.status }, 'rate limit store unavailable: counting per instance until Redis answers')
  }

  function recover (): void {
    if (!shared.degraded) return
    shared.degraded = false
    deps.metrics.rateLimitStoreDegraded.set(0)
    deps.log.info('rate limit store available again: counting in Redis')
  }

  class FallbackStore implements CountingStore {
    constructor (private readonly remote: CountingStore, private readonly local: CountingStore) {}

    incr (key: string, callback: RateLimitCallback, timeWindow: number, max: number): void {
      this.count('incr', key, callback, timeWindow, max)
    }

    read (key: string, callback: RateLimitCallback, timeWindow: number, max: number): void {
      this.count('read', key, callback, timeWindow, max)
    }

    child (routeOptions: RouteOptions): CountingStore {
      return new FallbackStore(this.remote.child(routeOptions), this.local.child(routeOptions))
    }

    private count (method: 'incr' | 'read', key: string, callback: RateLimitCallback, timeWindow: number, max: number): void {
      // Not connected: asking would only wait for the command to fail.
      if (deps.redis.status !== 'ready') {
        degrade(null)
        this.local[method](key, callback, timeWindow, max)
        return
      }
      this.remote[method](key, (error, result) => {
        if (error === null && result !== undefined) {
          recover()
          callback(null, result)
          return
        }
        degrade(error)
        this.local[method](key, callback, timeWindow, max)
      }, timeWindow, max)
    }
  }

  // The plugin's own flags (continueExceeding, exponentialBackoff) are left at their defaults.
  return new FallbackStore(new RedisStore(false, false, deps.redis, deps.keyPrefix), new LocalStore(false, false))
}

/** Counts in this process only: the plugin's default store, made here so that it can be shared. */
export function localRateLimitStore (): CountingStore {
  return new LocalStore(false, false)
}

/**
 * A store constructor for @fastify/rate-limit that hands every registration the same store. The
 * plugin makes a store of its own per registration, so two scopes with the same limit would count
 * one key twice without it.
 */
export function sharedRateLimitStore (store: CountingStore): FastifyRateLimitStoreCtor {
  return class SharedStore implements CountingStore {
    incr (key: string, callback: RateLimitCallback, timeWindow: number, max: number): void {
      store.incr(key, callback, timeWindow, max)
    }

    read (key: string, callback: RateLimitCallback, timeWindow: number, max: number): void {
      store.read(key, callback, timeWindow, max)
    }

    child (routeOptions: RouteOptions): CountingStore {
      return store.child(routeOptions)
    }
  }
}

/** How long a start waits for Redis before it begins counting per instance (it keeps reconnecting). */
const FIRST_CONNECT_WAIT_MS = 2000

/**
 * The Redis connection of the rate limit. Every command fails fast rather than queueing while the
 * connection is down (no offline queue, one retry, a command timeout), so a Redis that is gone or
 * hangs costs a request a few hundred milliseconds at most before it is counted locally; the
 * connection itself keeps being retried, so the shared count comes back with Redis.
 */
export async function connectRateLimitRedis (url: string, log: FastifyBaseLogger): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000)
  })
  // The fallback store warns once per outage; each failed reconnect is only worth a debug line.
  redis.on('error', (error: Error) => { log.debug({ err: error }, 'rate limit Redis connection error') })
  await once(redis, 'ready', { signal: AbortSignal.timeout(FIRST_CONNECT_WAIT_MS) }).catch(() => {})
  return redis
}
