import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { errorBody, NotFoundError } from '../errors.js'
import type { FaultState } from './faults.js'
import type { OrderBook } from './order-book.js'
import { createOrderBodySchema, parseBody } from './order-schemas.js'
import { toGameSoOrder } from './order.js'
import type { Random } from './random.js'
import type { Sleeper } from './sleeper.js'
import type { SimulatorStats } from './stats.js'

export interface ApiRoutesOptions {
  apiKey: string
  book: OrderBook
  faults: FaultState
  stats: SimulatorStats
  random: Random
  sleeper: Sleeper
}

const GET_ORDER_ROUTE = '/v1/orders/:reference_id'

const SERVER_ERRORS = [
  errorBody(500, 'INTERNAL_ERROR', 'Internal server error'),
  errorBody(502, 'BAD_GATEWAY', 'Bad gateway'),
  errorBody(503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable')
] as const

function reject (reply: FastifyReply, status: number, code: string, message: string, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(status).send(errorBody(status, code, message))
}

/**
 * GameSO's order API. Every request passes the fault gate first, in the order a real edge would
 * apply them: slowness, an outage, the hard rate limit, authentication, then random 5xx and 429.
 * A fault answer means the request did nothing (no order is created).
 */
export async function apiRoutes (app: FastifyInstance, options: ApiRoutesOptions): Promise<void> {
  const { book, faults, stats, random, sleeper } = options
  const expectedKey = Buffer.from(options.apiKey)
  const authorized = (header: string | string[] | undefined) => {
    if (typeof header !== 'string') return false
    const given = Buffer.from(header)
    return given.length === expectedKey.length && timingSafeEqual(given, expectedKey)
  }

  app.addHook('onRequest', async (request, reply) => {
    const getReference = request.method === 'GET' && request.routeOptions.url === GET_ORDER_ROUTE
      ? (request.params as { reference_id: string }).reference_id
      : undefined
    // 'close' fires whether the response finished or the client went away mid-request.
    reply.raw.once('close', stats.requestStarted(getReference))

    const current = faults.faults
    if (current.slowMs > 0 && random.chance(current.slowRate)) await sleeper.sleep(current.slowMs)
    const downForMs = faults.downForMs()
    if (downForMs > 0) return reject(reply, 503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable', Math.ceil(downForMs / 1000))
    if (!faults.admit(performance.now())) return reject(reply, 429, 'RATE_LIMITED', 'Too many requests', 1)
    if (!authorized(request.headers['x-api-key'])) return reject(reply, 401, 'UNAUTHORIZED', 'Invalid or missing API key')
    if (random.chance(current.errorRate)) {
      const error = random.pick(SERVER_ERRORS)
      return reject(reply, error.status, error.code, error.message)
    }
    if (random.chance(current.rateLimitedRate)) {
      return reject(reply, 429, 'RATE_LIMITED', 'Too many requests', current.retryAfterSeconds)
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    stats.responseSent(`${request.method} ${request.routeOptions.url}`, reply.statusCode)
  })

  app.post('/v1/orders', async (request) => {
    const body = parseBody(createOrderBodySchema, request.body)
    return toGameSoOrder(book.create(body))
  })

  app.get<{ Params: { reference_id: string } }>(GET_ORDER_ROUTE, async (request) => {
    const order = book.get(request.params.reference_id)
    if (!order) throw new NotFoundError()
    return toGameSoOrder(order)
  })
}
