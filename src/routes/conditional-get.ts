import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored and `*`
 * matches any current representation. Parsed by hand: it is a comma list of quoted tags, and no
 * installed library exposes a parser for it.
 */
export function ifNoneMatchMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}

/** A strong ETag over the exact bytes sent, and 304 when the client already has them. */
export async function conditionalGet (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode !== 200 || typeof payload !== 'string') return payload
  const etag = `"${createHash('sha256').update(payload).digest('base64url')}"`
  reply.header('etag', etag)
  if (!ifNoneMatchMatches(request.headers['if-none-match'], etag)) return payload
  reply.code(304)
  return null
}
