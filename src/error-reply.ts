import type { FastifyBaseLogger, FastifyError } from 'fastify'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { isDatabaseUnavailable } from './db/database.js'
import { AppError, describeValidation, errorBody, type ErrorBody } from './errors.js'

/** Codes for the 4xx errors Fastify itself raises (content type, body size, malformed JSON …). */
const CODE_FOR_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'REQUEST_HEADER_FIELDS_TOO_LARGE'
}

export function codeForStatus (status: number): string {
  return CODE_FOR_STATUS[status] ?? 'BAD_REQUEST'
}

/**
 * The status and `{status, code, message}` body for an error; 5xx causes are logged here and never
 * put in the body. Scopes that answer in another shape use it to classify errors alike.
 */
export function errorReplyOf (error: FastifyError, log: FastifyBaseLogger): { statusCode: number, body: ErrorBody } {
  if (error instanceof AppError) {
    if (error.statusCode >= 500) log.warn({ err: error }, 'request failed')
    return { statusCode: error.statusCode, body: errorBody(error.statusCode, error.code, error.message) }
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    return { statusCode: 400, body: errorBody(400, 'VALIDATION_ERROR', describeValidation(error.validationContext, error.validation)) }
  }
  if (isResponseSerializationError(error)) {
    log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema')
    return { statusCode: 500, body: errorBody(500, 'INTERNAL_ERROR', 'Internal server error') }
  }
  if (isDatabaseUnavailable(error)) {
    log.warn({ err: error }, 'database unavailable')
    return { statusCode: 503, body: errorBody(503, 'UNAVAILABLE', 'Database unavailable, retry later') }
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500
  if (status >= 400 && status < 500) return { statusCode: status, body: errorBody(status, codeForStatus(status), error.message) }
  log.error({ err: error }, 'unhandled error')
  return { statusCode: 500, body: errorBody(500, 'INTERNAL_ERROR', 'Internal server error') }
}
