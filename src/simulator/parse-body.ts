import { z } from 'zod'
import { BadRequestError, ValidationError } from '../errors.js'

/** zod error text that reads after the field name: "reference_id is required", "… must be a string". */
export function expected (what: string) {
  return (issue: { input?: unknown }) => issue.input === undefined ? 'is required' : `must be ${what}`
}

function fieldPath (path: readonly PropertyKey[]): string {
  return path.reduce<string>((joined, key) => typeof key === 'number' ? `${joined}[${key}]` : (joined ? `${joined}.${String(key)}` : String(key)), '')
}

function describeIssues (issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => {
    const field = fieldPath(issue.path)
    return field ? `${field} ${issue.message}` : issue.message
  }).join('; ')
}

/**
 * Parses a JSON body in the `{status, code, message}` shape: no object at all is BAD_REQUEST,
 * field problems are VALIDATION_ERROR naming each field ("items[0].quantity must be at least 1").
 */
export function parseBody<T extends z.ZodType> (schema: T, body: unknown): z.output<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('Request body must be a JSON object')
  }
  const result = schema.safeParse(body)
  if (result.success) return result.data
  throw new ValidationError(describeIssues(result.error.issues))
}

/** Many seeds in one request, so 10,000 stale orders take one call. */
export function seedBatchOf<T extends z.ZodType> (seed: T) {
  return z.object({
    orders: z.array(seed, { error: expected('an array') })
      .min(1, 'must contain at least 1 order')
      .max(100_000, 'must contain at most 100000 orders')
  })
}
