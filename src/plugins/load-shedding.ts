import { getHeapStatistics } from 'node:v8'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route answers even while the process sheds load (health and metrics must). */
    shedUnderPressure?: boolean
  }
}

/** Seconds a shed client is asked to wait. */
const RETRY_AFTER_SECONDS = 10

/** The share of V8's heap limit past which requests are shed, when no threshold is configured. */
const DEFAULT_HEAP_SHARE = 0.9

/** Thrown for a shed request: each scope's error handler answers it in its own shape (503, or MidasBuy's retryable 500). */
export class OverloadedError extends AppError {
  constructor (readonly reason: string) {
    super(503, 'OVERLOADED', 'The service is overloaded; retry later')
    this.name = 'OverloadedError'
  }
}

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags, or the heap or resident
 * memory passes its threshold, requests are refused with 503 OVERLOADED (Retry-After) before any
 * work is done for them, so the process answers something quickly instead of falling over.
 * Health and metrics keep answering, and readiness reports the pressure (and fails while it lasts,
 * so a load balancer sends new work to other instances).
 */
export const loadSheddingPlugin = fp(async function loadSheddingPlugin (app: FastifyInstance) {
  const limits = app.config.loadShedding
  const maxHeapUsedBytes = limits.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_HEAP_SHARE)
  const shed = app.metrics.requestsShedTotal
  // Exported so alerts can warn before shedding starts, against the thresholds this instance uses.
  app.metrics.loadShedMaxEventLoopDelaySeconds.set(limits.maxEventLoopDelayMs / 1000)
  app.metrics.loadShedMaxHeapUsedBytes.set(maxHeapUsedBytes)
  app.metrics.loadShedMaxRssBytes.set(limits.maxRssBytes)

  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes,
    maxRssBytes: limits.maxRssBytes,
    sampleInterval: limits.sampleIntervalMs,
    retryAfter: RETRY_AFTER_SECONDS,
    // An async handler's rejection reaches the route scope's error handler, which knows its shape.
    pressureHandler: async (request: FastifyRequest, reply, type: string) => {
      if (request.routeOptions.config.shedUnderPressure === false) return
      shed.inc({ reason: type })
      request.log.warn({ reason: type }, 'request shed: the process is under pressure')
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      throw new OverloadedError(type)
    }
  })

  app.readinessChecks.set('pressure', () => {
    const usage = app.memoryUsage()
    const underPressureNow = app.isUnderPressure()
    return {
      ready: !underPressureNow,
      underPressure: underPressureNow,
      eventLoopDelayMs: Math.round(usage.eventLoopDelay * 10) / 10,
      heapUsedBytes: usage.heapUsed,
      rssBytes: usage.rssBytes,
      limits: { maxEventLoopDelayMs: limits.maxEventLoopDelayMs, maxHeapUsedBytes, maxRssBytes: limits.maxRssBytes }
    }
  })
}, { name: 'load-shedding', dependencies: ['readiness'] })
