import { randomBytes } from 'node:crypto'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiGate, GateRefusal } from '../../../simulator/api-gate.js'
import type { SimulatorStats } from '../../../simulator/stats.js'
import { verifyMidasBuyRequest, type RequestSigningOptions, type RequestVerification } from '../midasbuy-request-signature.js'
import type { SimulatorKeys } from './keys.js'
import { platformSignedHeaders } from './notifications.js'
import type { Settings } from './options.js'
import type { PaymentOrderBook } from './order-book.js'
import { toOrderQuery } from './order.js'

export type SignatureRefusal = Extract<RequestVerification, { valid: false }>['reason']

/** Request signatures checked, for the stats: what passed and why the rest were refused. */
export interface SignatureCounters {
  verified: number
  refused: Record<SignatureRefusal, number>
}

export function zeroSignatureCounters (): SignatureCounters {
  return { verified: 0, refused: { missing: 0, malformed: 0, app_id: 0, serial_no: 0, timestamp: 0, mismatch: 0 } }
}

export interface OrderQueryRoutesOptions {
  book: PaymentOrderBook
  gate: ApiGate
  stats: SimulatorStats
  keys: SimulatorKeys
  settings: Settings
  appId: string
  /** Required certificate serial in requests; null accepts any. */
  merchantCertSerialNo: string | null
  platformSerialNo: string
  signing: RequestSigningOptions
  /** The counters now (a stats reset replaces them). */
  signatures: () => SignatureCounters
  now: () => number
}

/** OrderQuery's paths: the docs disagree on the `/midasbuy` prefix, so both answer. */
export const ORDER_QUERY_PATHS = ['/v2/orders', '/midasbuy/v2/orders'] as const

/** A request id is tiny (`{"id": "…"}`); anything near this is not one. */
const BODY_LIMIT = 64 * 1024
const MAX_ID_LENGTH = 255

/** The 5xx statuses MidasBuy documents for its own failures ("rare"). */
export const SERVER_ERROR_STATUSES = [500, 503] as const

// Error names follow the gRPC codes MidasBuy's one documented example uses (INVALID_ARGUMENT);
// the others are the matching codes of that family — MidasBuy lists no error names.
const SERVER_ERRORS: Readonly<Record<number, readonly [name: string, message: string]>> = {
  500: ['INTERNAL', 'internal error, retry later'],
  503: ['UNAVAILABLE', 'service temporarily unavailable, retry later']
}

/** MidasBuy's error body, keys in the order of the OrderQuery error schema. */
export function midasbuyErrorBody (name: string, message: string, details: readonly object[] = []) {
  return { name, message, details, debug_id: randomBytes(8).toString('hex'), causes: [] as object[] }
}

function fieldViolation (field: string, description: string, value: string) {
  return { '@type': 'type.apis.com/rpc.BadRequest.FieldViolation', field, description, value }
}

function answer (reply: FastifyReply, status: number, body: object, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(status).send(body)
}

function refuse (reply: FastifyReply, refusal: GateRefusal): FastifyReply {
  switch (refusal.kind) {
    case 'down': return answer(reply, 503, midasbuyErrorBody('UNAVAILABLE', 'service temporarily unavailable, retry later'), refusal.retryAfterSeconds)
    case 'over_limit':
    case 'rate_limited': return answer(reply, 429, midasbuyErrorBody('RESOURCE_EXHAUSTED', 'too many requests, retry later'), refusal.retryAfterSeconds)
    case 'server_error': {
      const [name, message] = SERVER_ERRORS[refusal.status] ?? ['INTERNAL', 'internal error, retry later']
      return answer(reply, refusal.status, midasbuyErrorBody(name, message))
    }
  }
}

type ParsedQuery = { ok: true, id: string } | { ok: false, status: 400, body: object }

function invalidArgument (message: string, details: readonly object[] = []): ParsedQuery {
  return { ok: false, status: 400, body: midasbuyErrorBody('INVALID_ARGUMENT', message, details) }
}

/** The OrderQuery request `{"id": "<payment order id>"}`, refused in the style of MidasBuy's validation messages. */
function parseQuery (request: FastifyRequest, raw: Buffer): ParsedQuery {
  const type = request.headers['content-type']
  if (typeof type !== 'string' || !/^application\/json\s*(;|$)/i.test(type)) {
    return invalidArgument('invalid request: Content-Type must be application/json')
  }
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch {
    return invalidArgument('invalid OrderQueryRequest: the body must be a JSON object')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalidArgument('invalid OrderQueryRequest: the body must be a JSON object')
  const id: unknown = (body as { id?: unknown }).id
  if (typeof id !== 'string') {
    return invalidArgument('invalid OrderQueryRequest.Id: value must be a string', [fieldViolation('id', 'value must be a string', id === undefined ? '' : JSON.stringify(id).slice(0, 64))])
  }
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    const description = `value length must be between 1 and ${MAX_ID_LENGTH} runes, inclusive`
    return invalidArgument(`invalid OrderQueryRequest.Id: ${description}`, [fieldViolation('id', description, id.slice(0, 64))])
  }
  return { ok: true, id }
}

/**
 * MidasBuy's OrderQuery (`POST /v2/orders`, also under `/midasbuy`). The order of checks, once
 * the body is read: the fault gate's slowness, outage and hard limit; the request signature, verified against the
 * merchant public key over the exact bytes received (401 UNAUTHENTICATED, counted); random 5xx
 * and 429; then the body (400 INVALID_ARGUMENT) and the lookup (404 NOT_FOUND — an assumption,
 * the docs show no answer for an unknown id). Every answer, errors included, is signed with the
 * platform key when `signResponses` is on.
 */
export async function orderQueryRoutes (app: FastifyInstance, options: OrderQueryRoutesOptions): Promise<void> {
  const { book, gate, stats, keys, settings, signatures, now } = options
  // Parsed once in preHandler (the lookup is counted per id), answered by the route.
  const queries = new WeakMap<FastifyRequest, ParsedQuery>()

  // Signatures cover the raw bytes, so every body is read as bytes and parsed here, after the check.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode === 413) return reply.code(413).send(midasbuyErrorBody('INVALID_ARGUMENT', 'invalid request: the body is too large'))
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(400).send(midasbuyErrorBody('INVALID_ARGUMENT', 'invalid request'))
    }
    request.log.error({ err: error }, 'simulator error')
    return reply.code(500).send(midasbuyErrorBody('INTERNAL', 'internal error, retry later'))
  })

  app.addHook('onRequest', async (_request, reply) => {
    // 'close' fires whether the response finished or the client went away mid-request.
    reply.raw.once('close', stats.requestStarted(undefined))
  })

  app.addHook('preHandler', async (request, reply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const query = parseQuery(request, raw)
    queries.set(request, query)
    // The id is only known once the body is read, so the gate waits until then: a lookup held
    // back by slowness is in flight for its id, as a GameSO read is from its arrival, and two
    // polls of one order held back together count as concurrent.
    if (query.ok) reply.raw.once('close', stats.lookupStarted(query.id))
    const arrival = await gate.arrive()
    if (arrival) return refuse(reply, arrival)
    const verification = verifyMidasBuyRequest({
      method: request.method,
      // Built by concatenation: a URL that starts with `//` must not become a host.
      url: new URL(`${request.protocol}://${request.host}${request.url}`),
      body: raw,
      authorization: request.headers.authorization
    }, keys.merchantPublicKey(), options.signing, {
      appId: options.appId,
      ...(options.merchantCertSerialNo === null ? {} : { serialNo: options.merchantCertSerialNo }),
      toleranceSeconds: settings.requestToleranceSeconds,
      nowSeconds: Math.floor(now() / 1000)
    })
    if (!verification.valid) {
      signatures().refused[verification.reason]++
      return answer(reply, 401, midasbuyErrorBody('UNAUTHENTICATED', `request signature refused: ${verification.problem}`))
    }
    signatures().verified++
    const drawn = gate.draw()
    if (drawn) return refuse(reply, drawn)
  })

  app.addHook('onSend', async (_request, reply, payload) => {
    if (settings.signResponses && typeof payload === 'string') {
      reply.headers(platformSignedHeaders(Buffer.from(payload), keys, settings.signatureHeader, options.platformSerialNo, now))
    }
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    stats.responseSent(`${request.method} ${request.routeOptions.url}`, reply.statusCode)
  })

  for (const path of ORDER_QUERY_PATHS) {
    app.post(path, async (request, reply) => {
      const query = queries.get(request)
      if (query === undefined) return answer(reply, 500, midasbuyErrorBody('INTERNAL', 'internal error, retry later'))
      if (!query.ok) return answer(reply, query.status, query.body)
      const order = book.get(query.id)
      if (!order) return answer(reply, 404, midasbuyErrorBody('NOT_FOUND', 'payment order not found'))
      return toOrderQuery(order)
    })
  }
}
