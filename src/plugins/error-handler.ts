import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { codeForStatus, errorReplyOf } from '../error-reply.js'
import { errorBody } from '../errors.js'

/**
 * One error shape for the whole service — GameSO's `{status, code, message}` — including unknown
 * routes, validation failures and Fastify's own errors. 5xx texts are logged, never sent.
 */
export const errorHandlerPlugin = fp(async function errorHandlerPlugin (app: FastifyInstance) {
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, 'NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, body } = errorReplyOf(error, request.log)
    return reply.code(statusCode).send(body)
  })
}, { name: 'error-handler' })

/** The JSON error body and status line for a refusal the server writes before any route is known. */
function clientErrorOf (error: NodeJS.ErrnoException): { status: number, code: string, message: string } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' }
  if (error.code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'The request headers are too large' }
  return { status: 400, code: 'BAD_REQUEST', message: 'Malformed HTTP request' }
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (malformed headers, a bad
 * Content-Length or chunk size, a head over the size limit) or the client took too long to send it.
 * No route is known yet, so the answer is a complete HTTP/1.1 response in the one error shape,
 * written on the socket directly, and the connection is closed: after a parse error nothing more
 * on it can be trusted.
 */
export function clientErrorHandler (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const { status, code, message } = clientErrorOf(error)
  this.log.debug({ err: error, statusCode: status }, 'client error before routing')
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
  // A response already under way cannot be replaced by another one.
  if (socket.writable && response?.headersSent !== true) {
    const body = JSON.stringify(errorBody(status, code, message))
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroySoon()
}

/**
 * Fastify's `frameworkErrors`: refusals of the router before any route runs — a path that is not
 * valid percent-encoded UTF-8 (FST_ERR_BAD_URL), a parameter over the router's length limit.
 */
export function frameworkErrorHandler (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  const message = error.code === 'FST_ERR_BAD_URL'
    ? 'The request path is not valid: bad percent-encoding, or bytes that are not UTF-8'
    : error.message
  return reply.code(status).send(errorBody(status, codeForStatus(status), message))
}
