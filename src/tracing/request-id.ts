import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The id of the work under way — a request's id (X-Request-Id, or Fastify's), or a reconcile
 * batch's — carried through its async calls, so an upstream call can send it on and the upstream's
 * logs can be matched with ours.
 */
const current = new AsyncLocalStorage<string>()

/** What can go into a header as it is: visible ASCII, bounded. An id that is not is kept in our logs only. */
const HEADER_SAFE = /^[\x21-\x7e]{1,200}$/

export function withRequestId<T> (requestId: string, work: () => T): T {
  return current.run(requestId, work)
}

export function currentRequestId (): string | undefined {
  return current.getStore()
}

/** The X-Request-Id header for an outgoing call, when the work under way has an id that can be sent. */
export function requestIdHeader (): Record<string, string> {
  const requestId = current.getStore()
  return requestId !== undefined && HEADER_SAFE.test(requestId) ? { 'x-request-id': requestId } : {}
}
