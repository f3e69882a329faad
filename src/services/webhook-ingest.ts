import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { z } from 'zod'
import { isDataException } from '../db/database.js'
import type { OrderSnapshot, Provider } from '../domain/order.js'
import { unstorablePayloadReason } from '../domain/storable-json.js'
import { storableText } from '../domain/text.js'
import { AppError, BadRequestError, describeValidation, ServiceUnavailableError } from '../errors.js'
import { gamesoOrderToSnapshot } from '../providers/gameso/gameso-mapping.js'
import { gamesoOrderSchema, gamesoWebhookEnvelopeSchema } from '../providers/gameso/gameso-schemas.js'
import { createGameSoSignatureVerifier, type GameSoSignatureVerifier } from '../providers/gameso/gameso-signature.js'
import type { InboxEntry, InboxOutcome, StoredInboxRow } from '../repositories/inbox-repository.js'
import type { OrderSync } from './order-sync.js'

/** Why a delivery was refused before anything was stored; the label of the signature-failure counter. */
export type RejectionReason = 'missing' | 'malformed' | 'mismatch' | 'timestamp'

/** A refusal that stores nothing (SPEC §2.1): the sender's credentials or clock are wrong. */
export class WebhookRejectedError extends AppError {
  constructor (readonly reason: RejectionReason, code: string, message: string) {
    super(401, code, message)
    this.name = 'WebhookRejectedError'
  }
}

export interface IngestResult {
  outcome: InboxOutcome
  inboxId: string | null
  orderId: string | null
  reference: string | null
  eventType: string | null
  /** For `invalid`: which fields failed, in the words of the 400 answer. */
  error: string | null
}

export interface GameSoWebhookIngestOptions {
  secrets: readonly string[]
  /** Lower-case header name. */
  signatureHeader: string
  /** 0 disables the timestamp check. */
  toleranceSeconds: number
  /** Epoch milliseconds; injectable so tests can pin the clock. */
  now?: () => number
}

/** Headers worth keeping with the raw body for audits; nothing that authenticates the mirror itself. */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-forwarded-for']

/** Validation messages are for people: past this many fields the rest are only counted. */
const MAX_REPORTED_ISSUES = 20

const ORDER_EVENT = /^order\./

export function describeIssues (issues: readonly z.core.$ZodIssue[]): string {
  const shown = describeValidation('body', issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    instancePath: `/${issue.path.map(String).join('/')}`,
    message: issue.message
  })))
  return issues.length > MAX_REPORTED_ISSUES ? `${shown}; and ${issues.length - MAX_REPORTED_ISSUES} more` : shown
}

/** The order reference a payload names, when it names one, so even an invalid row can be found by order. */
function referenceOf (payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null
  const data = (payload as { data?: unknown }).data
  if (typeof data !== 'object' || data === null) return null
  const reference = (data as { reference_id?: unknown }).reference_id
  return typeof reference === 'string' && reference.length > 0 ? reference : null
}

function eventTypeOf (payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null
  const event = (payload as { event?: unknown }).event
  return typeof event === 'string' ? event : null
}

/** Text the payload names, cut to its column's size and made storable whatever it held. */
function storableLabel (value: string | null, maxLength: number): string | null {
  return value === null ? null : storableText(value.slice(0, maxLength))
}

/**
 * The inbox row of a verified delivery: its exact bytes, their hash, and the headers worth keeping.
 * Everything but the bytes is derived from what the sender sent and written to text and jsonb
 * columns, so it is made storable here: the row must be written even when the payload is not.
 */
export function inboxEntryOf (provider: Provider, body: Buffer, headers: IncomingHttpHeaders, keptHeaderNames: readonly string[],
  found: { eventType: string | null, reference: string | null }): InboxEntry {
  const kept: Record<string, string> = {}
  for (const name of keptHeaderNames) {
    const value = headers[name]
    if (typeof value === 'string') kept[name] = storableText(value)
  }
  return {
    provider,
    body,
    bodySha256: createHash('sha256').update(body).digest(),
    headers: kept,
    eventType: storableLabel(found.eventType, 128),
    reference: storableLabel(found.reference, 255)
  }
}

/** The payload of a stored row, or, for bytes that are not JSON, the result that leaves the row as it is. */
export function storedPayload (row: StoredInboxRow): { payload: unknown } | { result: IngestResult } {
  try {
    return { payload: JSON.parse(row.body.toString('utf8')) }
  } catch {
    // Only verified JSON is ever stored; a row that is not JSON stays as it is, and says so.
    return { result: { outcome: row.outcome, inboxId: row.id, orderId: null, reference: row.reference, eventType: row.eventType, error: 'stored body is not JSON' } }
  }
}

/** Stores a delivery that carries no snapshot to merge; the same bytes stored before make it a duplicate. */
export async function recordWithoutSnapshot (sync: OrderSync, entry: InboxEntry, outcome: 'ignored' | 'invalid', reason: string, replayOf?: string): Promise<IngestResult> {
  const error = storableText(reason)
  const stored = await sync.recordDelivery(entry, outcome, error, replayOf === undefined ? {} : { replayOf })
  return {
    outcome: stored.redelivery ? 'duplicate' : outcome,
    inboxId: stored.inboxId,
    orderId: null,
    reference: entry.reference,
    eventType: entry.eventType,
    error: stored.redelivery ? null : error
  }
}

/** What a provider reads in a verified, storable payload: a snapshot to merge, or why there is none. */
export type DeliveryReading = { snapshot: OrderSnapshot } | { outcome: 'ignored' | 'invalid', error: string }

/**
 * Settles a verified delivery, live or replayed, the same way for every provider: first the rule
 * of what PostgreSQL can store (a payload that breaks it is kept as raw bytes, `invalid`, with
 * the field named), then the provider's reading of the payload, then the merge, which stores the
 * inbox row in the transaction of its effect.
 */
export async function settleDelivery (sync: OrderSync, entry: InboxEntry, payload: unknown,
  read: (payload: unknown) => DeliveryReading, replayOf?: string): Promise<IngestResult> {
  const unstorable = unstorablePayloadReason(entry.body, payload)
  if (unstorable !== null) return recordWithoutSnapshot(sync, entry, 'invalid', unstorable, replayOf)
  const reading = read(payload)
  if (!('snapshot' in reading)) return recordWithoutSnapshot(sync, entry, reading.outcome, reading.error, replayOf)
  try {
    const applied = await sync.applySnapshot(reading.snapshot, { source: 'webhook', inbox: entry, replay: replayOf !== undefined })
    return { reference: entry.reference, eventType: entry.eventType, outcome: applied.outcome, inboxId: applied.inboxId, orderId: applied.orderId, error: null }
  } catch (error) {
    // The rule above is meant to leave nothing PostgreSQL refuses; should a value still be refused,
    // the delivery is kept as invalid with PostgreSQL's reason rather than lost to a 500 and retried forever.
    if (!isDataException(error)) throw error
    return recordWithoutSnapshot(sync, entry, 'invalid', `PostgreSQL refused the payload: ${(error as Error).message}`, replayOf)
  }
}

/**
 * GameSO webhook ingestion (SPEC §2.1): verify the signature over the exact bytes, then parse,
 * check the timestamp, and hand the delivery to OrderSync, which stores it in the inbox in the
 * same transaction as its effect. Returns only once that transaction has committed.
 */
export class GameSoWebhookIngest {
  private readonly verifySignature: GameSoSignatureVerifier
  private readonly now: () => number

  constructor (private readonly sync: OrderSync, private readonly options: GameSoWebhookIngestOptions) {
    this.verifySignature = createGameSoSignatureVerifier(options.secrets)
    this.now = options.now ?? Date.now
  }

  /** Throws an AppError for every refusal that stores nothing; otherwise stores and returns the outcome. */
  async ingest (body: Buffer, headers: IncomingHttpHeaders): Promise<IngestResult> {
    if (this.options.secrets.length === 0) {
      throw new ServiceUnavailableError('WEBHOOK_NOT_CONFIGURED', 'No GameSO webhook secret is configured; retry later')
    }
    const signature = this.verifySignature(body, headers[this.options.signatureHeader])
    if (!signature.valid) {
      const problem = signature.reason === 'missing' ? 'Missing' : 'Invalid'
      throw new WebhookRejectedError(signature.reason, 'INVALID_SIGNATURE', `${problem} webhook signature`)
    }

    let payload: unknown
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch {
      throw new BadRequestError('Body is not valid JSON')
    }

    const envelope = gamesoWebhookEnvelopeSchema.safeParse(payload)
    if (envelope.success && this.options.toleranceSeconds > 0) {
      const skewSeconds = Math.abs(this.now() / 1000 - envelope.data.timestamp)
      if (skewSeconds > this.options.toleranceSeconds) {
        throw new WebhookRejectedError('timestamp', 'TIMESTAMP_OUT_OF_TOLERANCE',
          `Webhook timestamp is ${Math.round(skewSeconds)} s from now; at most ${this.options.toleranceSeconds} s is accepted`)
      }
    }

    const entry = inboxEntryOf('gameso', body, headers, [...KEPT_HEADERS, this.options.signatureHeader],
      { eventType: eventTypeOf(payload), reference: referenceOf(payload) })
    return this.process(entry, payload)
  }

  /**
   * Re-applies a stored delivery through the same path a live one takes (`npm run inbox:replay`).
   * The signature and timestamp were checked when it arrived; an old row is not too old now.
   */
  async replay (row: StoredInboxRow): Promise<IngestResult> {
    const stored = storedPayload(row)
    return 'result' in stored ? stored.result : this.process(row, stored.payload, row.id)
  }

  private process (entry: InboxEntry, payload: unknown, replayOf?: string): Promise<IngestResult> {
    return settleDelivery(this.sync, entry, payload, readGameSoPayload, replayOf)
  }
}

/** A GameSO envelope → the order snapshot it carries, or why it carries none. */
function readGameSoPayload (payload: unknown): DeliveryReading {
  const envelope = gamesoWebhookEnvelopeSchema.safeParse(payload)
  if (!envelope.success) return { outcome: 'invalid', error: describeIssues(envelope.error.issues) }
  if (!ORDER_EVENT.test(envelope.data.event)) return { outcome: 'ignored', error: `event ${envelope.data.event} is not an order event` }
  const order = gamesoOrderSchema.safeParse(envelope.data.data)
  if (!order.success) {
    const issues = order.error.issues.map((issue) => ({ ...issue, path: ['data', ...issue.path] }))
    return { outcome: 'invalid', error: describeIssues(issues) }
  }
  return { snapshot: gamesoOrderToSnapshot(order.data) }
}
