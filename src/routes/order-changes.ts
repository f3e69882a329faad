import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { orderAtChange } from '../domain/order-change.js'
import { errorBodySchema } from '../errors.js'
import { providers } from '../providers/index.js'
import { FEED_START, readChanges, type FeedPosition, type OrderChangeRow } from '../repositories/order-changes-repository.js'
import { decimalIntegerQuerySchema } from './merchant-route-schemas.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 500
const MAX_WAIT_SECONDS = 30
const MAX_BIGINT = 9223372036854775807n

const positionPartSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/).refine((value) => BigInt(value) <= MAX_BIGINT)

/** Opaque to clients: base64url of the last change's position, so its form may change freely. */
export function encodeFeedCursor (position: FeedPosition): string {
  return Buffer.from(JSON.stringify([position.transactionId, position.id])).toString('base64url')
}

export function decodeFeedCursor (value: string): FeedPosition | null {
  try {
    const bytes = Buffer.from(value, 'base64url')
    // Node's decoder skips characters outside the alphabet: only the exact text encodeFeedCursor writes is a cursor.
    if (bytes.toString('base64url') !== value) return null
    const parsed = z.tuple([positionPartSchema, positionPartSchema]).safeParse(JSON.parse(bytes.toString('utf8')))
    return parsed.success ? { transactionId: parsed.data[0], id: parsed.data[1] } : null
  } catch {
    return null
  }
}

const cursorSchema = z.string().max(200, 'must be at most 200 characters').transform((value, context) => {
  const position = decodeFeedCursor(value)
  if (position === null) {
    context.issues.push({ code: 'custom', input: value, message: 'invalid cursor: pass next_cursor from the previous page unchanged' })
    return z.NEVER
  }
  return position
})

const changeSchema = z.object({
  provider: z.string(),
  reference_id: z.string().describe('The order\'s reference at its provider (SPEC §3)'),
  from: z.string().nullable().describe('Canonical status before the change; null when the mirror first recorded the order'),
  to: z.string().describe('Canonical status after it: pending | processing | completed | failed | refunded'),
  source: z.string().describe('webhook | poll | create | manual | track'),
  changed_at: z.string().describe('When the mirror recorded the change (ISO-8601 UTC)'),
  order: z.looseObject({}).describe('The order as it was at that change, in its provider\'s read shape (SPEC §2.5)')
})

function present (row: OrderChangeRow): z.infer<typeof changeSchema> {
  const provider = providers.find((candidate) => candidate.name === row.provider)
  if (!provider) throw new Error(`no provider module named ${row.provider}`)
  return {
    provider: row.provider,
    reference_id: row.reference,
    from: row.fromStatus,
    to: row.toStatus,
    source: row.source,
    changed_at: row.changedAt.toISOString(),
    order: provider.presentChange(orderAtChange(row.order)) as Record<string, unknown>
  }
}

/** The changes feed (SPEC §2.5). Register inside `merchantScope` (src/plugins/auth.ts). */
export const orderChangesRoutes = fp(async function orderChangesRoutes (app: FastifyInstance) {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  const pollIntervalMs = app.config.changesFeed.pollIntervalMs
  // A held page must not hold a shutdown: closing answers every waiting request with what it has.
  const closing = new AbortController()
  app.addHook('preClose', async () => { closing.abort() })

  typed.get('/v1/orders/changes', {
    schema: {
      tags: ['orders'],
      summary: 'Every status change of every order, in commit order, from a cursor',
      description: 'Resume from the last next_cursor: nothing is missed and nothing repeats, with any number of instances writing. ' +
        'With wait, an empty page is held until a change arrives or wait seconds pass.',
      querystring: z.strictObject({
        cursor: cursorSchema.optional().describe('next_cursor of the previous page; absent: from the beginning'),
        limit: decimalIntegerQuerySchema(1, MAX_LIMIT).optional().describe(`Changes per page (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`),
        wait: decimalIntegerQuerySchema(0, MAX_WAIT_SECONDS).optional().describe(`Seconds to hold an empty page (0-${MAX_WAIT_SECONDS})`)
      }),
      response: {
        200: z.object({
          changes: z.array(changeSchema),
          next_cursor: z.string().describe('Where the next page starts; on an empty page, the position to poll from')
        }),
        400: errorBodySchema
      }
    }
  }, async (request, reply) => {
    const after = request.query.cursor ?? FEED_START
    const limit = request.query.limit ?? DEFAULT_LIMIT
    // Read again every interval while the page is empty, until the wait is over or the client goes.
    // A short poll rather than LISTEN/NOTIFY: a change is servable only once every older
    // transaction has ended, which no notification says, and a poll holds no connection between reads.
    const gone = new AbortController()
    reply.raw.once('close', () => gone.abort())
    const stop = AbortSignal.any([gone.signal, closing.signal])
    const deadline = Date.now() + (request.query.wait ?? 0) * 1000
    let rows = await readChanges(app.db.pool, after, limit)
    while (rows.length === 0 && Date.now() < deadline && !stop.aborted) {
      await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), undefined, { signal: stop }).catch(() => {})
      rows = await readChanges(app.db.pool, after, limit)
    }
    const last = rows.at(-1)
    return {
      changes: rows.map(present),
      next_cursor: encodeFeedCursor(last ? { transactionId: last.transactionId, id: last.id } : after)
    }
  })
}, { name: 'order-changes-routes', dependencies: ['database'], encapsulate: true })
