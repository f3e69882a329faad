import type { FastifyBaseLogger, FastifyError } from 'fastify'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { errorReplyOf } from '../../src/error-reply.js'
import { midasbuyCall } from '../../src/providers/midasbuy/midasbuy-client.js'
import { UpstreamFailureError, upstreamFailure } from '../../src/services/order-commands.js'
import {
  UpstreamHttpError, UpstreamInvalidResponseError, UpstreamRateLimitedError, UpstreamTimeoutError, UpstreamUnauthorizedError, UpstreamUnavailableError
} from '../../src/upstream/upstream-errors.js'

// A failed upstream call becomes the mirror's 502/503/504. What the upstream said (MidasBuy's
// error name and debug_id, the settings to check) must reach the request's log line, to be
// quoted to the upstream, and never the merchant's answer.

const call = midasbuyCall('order_query')
const refused = new UpstreamUnauthorizedError(call, 401, { name: 'UNAUTHENTICATED', debug_id: 'dbg-7f3a' }, {
  code: { code: 'UNAUTHENTICATED' },
  message: 'MidasBuy refused the mirror\'s request signature or app id (401 UNAUTHENTICATED, debug_id dbg-7f3a): check MIDASBUY_APP_ID'
})

/** The log lines errorReplyOf writes, as pino serialises them. */
function logged (error: unknown): { lines: Array<{ err?: { message?: string } }>, reply: ReturnType<typeof errorReplyOf> } {
  const lines: Array<{ err?: { message?: string } }> = []
  const log = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
  const reply = errorReplyOf(error as FastifyError, log as unknown as FastifyBaseLogger)
  return { lines, reply }
}

describe('upstreamFailure', () => {
  it.each([
    ['a refused signature', refused, 502, 'UPSTREAM_UNAUTHORIZED'],
    ['another error answer', new UpstreamHttpError(call, 500, { name: 'INTERNAL', debug_id: 'dbg-1' }, { code: { code: 'INTERNAL' } }), 502, 'UPSTREAM_ERROR'],
    ['a 429', new UpstreamRateLimitedError(call, null, 2000), 503, 'UPSTREAM_RATE_LIMITED'],
    ['a timeout', new UpstreamTimeoutError(call, true, 500), 504, 'UPSTREAM_TIMEOUT'],
    ['an unusable answer', new UpstreamInvalidResponseError(call, 200, '{}', 'order_status: missing'), 502, 'UPSTREAM_INVALID_RESPONSE'],
    ['no connection', new UpstreamUnavailableError('MidasBuy unreachable: ECONNREFUSED', call, false), 502, 'UPSTREAM_UNAVAILABLE']
  ])('keeps %s as the cause of the mirror\'s error', (_what, upstreamError, status, code) => {
    const failure = upstreamFailure(upstreamError, 'MidasBuy')
    expect(failure).toBeInstanceOf(UpstreamFailureError)
    expect(failure).toMatchObject({ statusCode: status, code, cause: upstreamError })
  })

  it('logs what MidasBuy said with the failed request, and answers the merchant without it', () => {
    const { lines, reply } = logged(upstreamFailure(refused, 'MidasBuy'))
    expect(lines).toHaveLength(1)
    expect(lines[0]?.err?.message).toContain('debug_id dbg-7f3a')
    expect(lines[0]?.err?.message).toContain('check MIDASBUY_APP_ID')
    expect(reply).toEqual({
      statusCode: 502,
      body: { status: 502, code: 'UPSTREAM_UNAUTHORIZED', message: 'MidasBuy refused the mirror\'s own credentials' }
    })
  })

  it('passes on what is not an upstream failure unchanged', () => {
    const other = new Error('something else')
    expect(upstreamFailure(other, 'MidasBuy')).toBe(other)
  })
})
