// @fastify/rate-limit ships its two stores as CommonJS files without type declarations; the
// fallback store wraps them, so this declares them: the plugin's store type plus the non-counting
// `read` both implement (the plugin's own types leave it out).
declare module '@fastify/rate-limit/store/*.js' {
  import type { FastifyRateLimitStore } from '@fastify/rate-limit'
  import type { Redis } from 'ioredis'

  export interface CountingStore extends FastifyRateLimitStore {
    read: FastifyRateLimitStore['incr']
    child (routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): CountingStore
  }

  const Store: {
    new (continueExceeding: boolean, exponentialBackoff: boolean, redisOrCache?: Redis | number, key?: string): CountingStore
  }
  export default Store
}
