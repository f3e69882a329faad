import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** One component's contribution to `/health/ready`: `ready: false` makes the service not ready. */
export interface ReadinessReport {
  ready: boolean
  [detail: string]: unknown
}

export type ReadinessCheck = () => Promise<ReadinessReport> | ReadinessReport

/** Every component's report; the instance is ready when all of them are. */
export interface Readiness {
  ready: boolean
  checks: Record<string, ReadinessReport>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Components (database, reconciler, …) register how they report readiness here. */
    readinessChecks: Map<string, ReadinessCheck>
    /** Runs every check at once; one that throws counts as not ready, with its error. */
    readiness: () => Promise<Readiness>
  }
}

export const readinessPlugin = fp(async function readinessPlugin (app: FastifyInstance) {
  const checks = new Map<string, ReadinessCheck>()
  app.decorate('readinessChecks', checks)
  app.decorate('readiness', async () => {
    const entries = await Promise.all([...checks].map(async ([name, check]): Promise<[string, ReadinessReport]> => {
      try {
        return [name, await check()]
      } catch (error) {
        return [name, { ready: false, error: (error as Error).message }]
      }
    }))
    return { ready: entries.every(([, report]) => report.ready), checks: Object.fromEntries(entries) }
  })
}, { name: 'readiness' })
