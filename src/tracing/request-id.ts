/**
 * The id of the work a call is made for — a request's id (X-Request-Id, or Fastify's), or a
 * reconcile batch's — is passed along explicitly and sent upstream, so the upstream's logs can be
 * matched with ours. Not through AsyncLocalStorage: on Node 20 it turns on async hooks for every
 * promise in the process for good, which cost about a quarter of the CPU of a webhook delivery
 * (measured with --cpu-prof under the ingest bench), while only a few calls need the id.
 */

/** What can go into a header as it is: visible ASCII, bounded. An id that is not is kept in our logs only. */
const HEADER_SAFE = /^[\x21-\x7e]{1,200}$/

/** The X-Request-Id header for an outgoing call, when the work under way has an id that can be sent. */
export function requestIdHeader (requestId: string | undefined): Record<string, string> {
  return requestId !== undefined && HEADER_SAFE.test(requestId) ? { 'x-request-id': requestId } : {}
}
