import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { errorBody, NotFoundError } from '../../../errors.js'
import type { ApiGate, GateRefusal } from '../../../simulator/api-gate.js'
import { parseBody } from '../../../simulator/parse-body.js'
import type { SimulatorStats } from '../../../simulator/stats.js'
import type { OrderBook } from './order-book.js'
import { createOrderBodySchema } from './order-schemas.js'
import { toGameSoOrder } from './order.js'

export interface ApiRoutesOptions {
  apiKey: string
  book: OrderBook
  gate: ApiGate
  stats: SimulatorStats
}

const GET_ORDER_ROUTE = '/v1/orders/:reference_id'

/** The statuses a random server error is drawn from. */
export const SERVER_ERROR_STATUSES = [500, 502, 503] as const

const SERVER_ERRORS: Readonly<Record<number, readonly [code: string, message: string]>> = {
  500: ['INTERNAL_ERROR', 'Internal server error'],
  502: ['BAD_GATEWAY', 'Bad gateway'],
  503: ['SERVICE_UNAVAILABLE', 'Service temporarily unavailable']
}

function reject (reply: FastifyReply, status: number, code: string, message: string, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(status).send(errorBody(status, code, message))
}

function refuse (reply: FastifyReply, refusal: GateRefusal): FastifyReply {
  switch (refusal.kind) {
    case 'down': return reject(reply, 503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable', refusal.retryAfterSeconds)
    case 'over_limit':
    case 'rate_limited': return reject(reply, 429, 'RATE_LIMITED', 'Too many requests', refusal.retryAfterSeconds)
    case 'server_error': {
      const [code, message] = SERVER_ERRORS[refusal.status] ?? ['INTERNAL_ERROR', 'Internal server error']
      return reject(reply, refusal.status, code, message)
    }
  }
}

/**
 * GameSO's order API. Every request passes the fault gate first — slowness, an outage, the hard
 * rate limit — then authentication, then random 5xx and 429. A fault answer means the request did
 * nothing (no order is created).
 */
export async function apiRoutes (app: FastifyInstance, options: ApiRoutesOptions): Promise<void> {
  const { book, gate, stats } = options
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

    const arrival = await gate.arrive()
    if (arrival) return refuse(reply, arrival)
    if (!authorized(request.headers['x-api-key'])) return reject(reply, 401, 'UNAUTHORIZED', 'Invalid or missing API key')
    const drawn = gate.draw()
    if (drawn) return refuse(reply, drawn)
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
