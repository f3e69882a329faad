import { z } from 'zod'

/**
 * Domain errors carry the GameSO error shape `{status, code, message}` the API answers with.
 * Anything that is not an AppError becomes a 500 whose text is never sent.
 */
export class AppError extends Error {
  constructor (readonly statusCode: number, readonly code: string, message: string) {
    super(message)
    this.name = 'AppError'
  }
}

export class UnauthorizedError extends AppError {
  constructor (message = 'Invalid or missing API key') { super(401, 'UNAUTHORIZED', message) }
}

export class NotFoundError extends AppError {
  constructor (message = 'Order not found') { super(404, 'NOT_FOUND', message) }
}

export class ValidationError extends AppError {
  constructor (message: string) { super(400, 'VALIDATION_ERROR', message) }
}

export class BadRequestError extends AppError {
  constructor (message: string) { super(400, 'BAD_REQUEST', message) }
}

export class ServiceUnavailableError extends AppError {
  constructor (code = 'UNAVAILABLE', message = 'Service temporarily unavailable, retry later') {
    super(503, code, message)
  }
}

export const errorBodySchema = z.object({
  status: z.number().int(),
  code: z.string(),
  message: z.string()
}).describe('Error: `{status, code, message}`')

export type ErrorBody = z.infer<typeof errorBodySchema>

export function errorBody (statusCode: number, code: string, message: string): ErrorBody {
  return { status: statusCode, code, message }
}

export interface ValidationIssue {
  instancePath?: string
  message?: string
}

/** "body.items.0.sku: Required; query.limit: Too big" — names every offending field. */
export function describeValidation (context: string | undefined, issues: readonly ValidationIssue[]): string {
  const where = context === 'querystring' ? 'query' : (context ?? 'request')
  return issues
    .map((issue) => {
      const field = (issue.instancePath ?? '').split('/').filter(Boolean).join('.')
      return `${field ? `${where}.${field}` : where}: ${issue.message ?? 'invalid'}`
    })
    .join('; ')
}
