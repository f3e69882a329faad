import { NotFoundError, UnauthorizedError, type AppError, type ErrorBody } from '../errors.js'

// What /docs shows for a route beside its schema: examples of its parameters, body and answers.
// Generic examples live in route-examples.ts; each provider module brings those of its own routes.

export interface NamedExample {
  summary: string
  value: unknown
}

export interface RouteExamples {
  /** Example values of path parameters and query-string fields, by name. */
  params?: Record<string, string>
  querystring?: Record<string, string | number>
  /** Examples of the request body. */
  body?: Record<string, NamedExample>
  /** Examples of the answer, by HTTP status. */
  responses: Partial<Record<number, Record<string, NamedExample>>>
  /** Appended to the route's description on the page. */
  note?: string
}

export function errorExample (error: AppError): ErrorBody {
  return { status: error.statusCode, code: error.code, message: error.message }
}

export const unauthorizedExample = { unauthorized: { summary: 'No X-API-Key, or one the mirror does not know', value: errorExample(new UnauthorizedError()) } }
export const notFoundExample = { notFound: { summary: 'No such order', value: errorExample(new NotFoundError()) } }

/** The note of a webhook route: the page cannot sign, `npm run send -- <command>` can, with `<key>`. */
export function signedWebhookNote (sendCommand: string, key: string): string {
  return `Sent from this page it carries no signature and is answered 401: \`npm run send -- ${sendCommand}\` ` +
    `posts a correctly signed one from a terminal, with the ${key} the mirror verifies.`
}
