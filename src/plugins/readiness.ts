import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** One component's contribution to `/health/ready`: `ready: false` makes the service not ready. */
export interface ReadinessReport {
  ready: boolean
  [detail: string]: unknown
}

export type ReadinessCheck = () => Promise<ReadinessReport> | ReadinessReport

declare module 'fastify' {
  interface FastifyInstance {
    /** Components (database, reconciler, …) register how they report readiness here. */
    readinessChecks: Map<string, ReadinessCheck>
  }
}

export const readinessPlugin = fp(async function readinessPlugin (app: FastifyInstance) {
  app.decorate('readinessChecks', new Map<string, ReadinessCheck>())
}, { name: 'readiness' })
