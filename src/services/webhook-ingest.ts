import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { isDataException } from '../db/database.js'
import { jsonArrayElements } from '../domain/json-array-elements.js'
import type { Provider } from '../domain/order.js'
import { unstorablePayloadReason } from '../domain/storable-json.js'
import { storableText } from '../domain/text.js'
import { AppError, BadRequestError } from '../errors.js'
import type { DeliveryReading, ProviderWebhook, SignatureFailureReason, WebhookVerifier } from '../providers/provider-webhook.js'
import type { InboxEntry, InboxOutcome, StoredInboxRow } from '../repositories/inbox-repository.js'
import { inSpanSync } from '../tracing/spans.js'
import type { OrderSync } from './order-sync.js'

/** Why a delivery was refused before anything was stored; the label of the signature-failure counter. */
export type RejectionReason = SignatureFailureReason | 'timestamp'

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
  /**
   * For a body that is a JSON array: each envelope's own result, in order. The fields above then
   * speak for the whole delivery: `invalid` (with the first bad element named) when any element
   * is, otherwise `applied`; no single inbox row or order.
   */
  elements?: IngestResult[]
}

export interface WebhookIngestOptions {
  /** Checks the signature; null when no key is configured (every live delivery is then refused). */
  verifier: WebhookVerifier | null
  /** 0 disables the timestamp check. */
  toleranceSeconds: number
  /** Epoch milliseconds; injectable so tests can pin the clock. */
  now?: () => number
}

const UNIX_SECONDS = /^\d{1,12}$/

/**
 * The inbox key of one envelope of an array body: which element of which signed body it is. Not a
 * header the sender sent (none of the kept names can be it), so it cannot be forged by one.
 */
export const ARRAY_ELEMENT_HEADER = 'x-order-mirror-array-element'

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

/**
 * Settles a verified envelope, live or replayed, the same way for every provider: first the rule
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

/** Waits for every element, so the answer never goes out while one is still being stored; then fails with the first error, if any. */
async function settleAll (work: Array<Promise<IngestResult>>): Promise<IngestResult[]> {
  const settled = await Promise.allSettled(work)
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((result) => (result as PromiseFulfilledResult<IngestResult>).value)
}

/**
 * Webhook ingestion for any provider (SPEC §2.1): verify the signature over the exact bytes, check
 * the signed clock, parse, and hand each envelope to OrderSync, which stores it in the inbox in
 * the same transaction as its effect. Returns only once every transaction has committed. What
 * differs between upstreams comes from the provider module's webhook part.
 */
export class WebhookIngest {
  private readonly now: () => number

  constructor (private readonly sync: OrderSync, private readonly provider: { name: Provider, webhook: ProviderWebhook },
    private readonly options: WebhookIngestOptions) {
    this.now = options.now ?? Date.now
  }

  /** Throws an AppError for every refusal that stores nothing; otherwise stores and returns the outcome. */
  async ingest (body: Buffer, headers: IncomingHttpHeaders): Promise<IngestResult> {
    const { webhook } = this.provider
    const { verifier } = this.options
    if (verifier === null) throw new AppError(webhook.notConfigured.status, 'WEBHOOK_NOT_CONFIGURED', webhook.notConfigured.message)
    const signature = inSpanSync('webhook.verify', { 'order_mirror.provider': this.provider.name }, (span) => {
      const checked = verifier.check(body, headers)
      span.setAttribute('order_mirror.signature', checked.valid ? 'valid' : checked.reason)
      return checked
    })
    if (!signature.valid) throw new WebhookRejectedError(signature.reason, 'INVALID_SIGNATURE', signature.message)
    if (webhook.clock.in === 'header') this.checkHeaderClock(signature.signedAt ?? '')

    let payload: unknown
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch {
      throw new BadRequestError('Body is not valid JSON')
    }
    if (webhook.clock.in === 'body') {
      const signedAt = webhook.clock.read(payload)
      if (signedAt !== null) this.checkSkew(signedAt)
    }

    if (Array.isArray(payload) && webhook.arrayBodies !== null) return this.ingestArray(body, headers, payload, verifier)
    return this.process(this.entryOf(body, headers, verifier.keptHeaders, payload), payload)
  }

  /**
   * Re-applies a stored delivery through the same path a live one takes (`npm run inbox:replay`).
   * The signature and timestamp were checked when it arrived; an old row is not too old now. A
   * row is one envelope (an array body is stored one element per row) or an array stored whole
   * (empty, or over the limit), which is judged whole again: nothing splits here.
   */
  async replay (row: StoredInboxRow): Promise<IngestResult> {
    const stored = storedPayload(row)
    if ('result' in stored) return stored.result
    const whole = this.wholeArrayReading(stored.payload)
    if (whole !== null) return recordWithoutSnapshot(this.sync, row, whole.outcome, whole.error, row.id)
    return this.process(row, stored.payload, row.id)
  }

  /**
   * For an array body stored as one row — empty, or longer than the provider takes — the outcome
   * the whole body gets; null for anything else. Live and replayed deliveries get the same.
   */
  private wholeArrayReading (payload: unknown): { outcome: 'ignored' | 'invalid', error: string } | null {
    const arrays = this.provider.webhook.arrayBodies
    if (arrays === null || !Array.isArray(payload)) return null
    if (payload.length === 0) return { outcome: 'ignored', error: 'body: an empty array carries no notification' }
    if (payload.length > arrays.maxEnvelopes) {
      return { outcome: 'invalid', error: `body: an array of ${payload.length} envelopes is over the limit of ${arrays.maxEnvelopes}; none of them was applied` }
    }
    return null
  }

  /**
   * Each element of an array body is its own inbox row (its exact bytes, keyed by their hash, so
   * a redelivered array or a repeated element is a duplicate per element) and its own merge; the
   * row's kept headers say which element of which signed body it was. An empty array carries no
   * envelope and a longer one than the provider takes is refused whole: either way the body
   * itself is stored as one row (ignored, or invalid with the limit named), and nothing is merged.
   */
  private async ingestArray (body: Buffer, headers: IncomingHttpHeaders, payload: unknown[], verifier: WebhookVerifier): Promise<IngestResult> {
    const whole = this.wholeArrayReading(payload)
    if (whole !== null) return recordWithoutSnapshot(this.sync, this.entryOf(body, headers, verifier.keptHeaders, payload), whole.outcome, whole.error)
    const bodyHash = createHash('sha256').update(body).digest('hex')
    const slices = jsonArrayElements(body)
    if (slices.length !== payload.length) throw new Error(`an array of ${payload.length} elements was cut into ${slices.length}`)
    const elements = await settleAll(slices.map((slice, index) => {
      const element = payload[index]
      const entry = this.entryOf(slice, headers, verifier.keptHeaders, element)
      entry.headers[ARRAY_ELEMENT_HEADER] = `${index + 1}/${slices.length} of sha256:${bodyHash}`
      return this.process(entry, element)
    }))
    const invalidAt = elements.findIndex((element) => element.outcome === 'invalid')
    const invalid = elements[invalidAt]
    return {
      outcome: invalid === undefined ? 'applied' : 'invalid',
      inboxId: null,
      orderId: null,
      reference: null,
      eventType: null,
      error: invalid === undefined ? null : `element ${invalidAt + 1} of ${elements.length}: ${invalid.error ?? 'invalid'}`,
      elements
    }
  }

  private entryOf (body: Buffer, headers: IncomingHttpHeaders, keptHeaders: readonly string[], envelope: unknown): InboxEntry {
    return inboxEntryOf(this.provider.name, body, headers, keptHeaders, this.provider.webhook.labels(envelope))
  }

  private checkHeaderClock (signedAt: string): void {
    if (this.options.toleranceSeconds === 0) return
    if (!UNIX_SECONDS.test(signedAt)) {
      throw new WebhookRejectedError('timestamp', 'INVALID_TIMESTAMP', `${this.provider.webhook.clock.label} must be Unix seconds`)
    }
    this.checkSkew(Number(signedAt))
  }

  private checkSkew (signedAtSeconds: number): void {
    const tolerance = this.options.toleranceSeconds
    if (tolerance === 0) return
    const skewSeconds = Math.abs(this.now() / 1000 - signedAtSeconds)
    if (skewSeconds > tolerance) {
      throw new WebhookRejectedError('timestamp', 'TIMESTAMP_OUT_OF_TOLERANCE',
        `${this.provider.webhook.clock.label} is ${Math.round(skewSeconds)} s from now; at most ${tolerance} s is accepted`)
    }
  }

  private process (entry: InboxEntry, payload: unknown, replayOf?: string): Promise<IngestResult> {
    return settleDelivery(this.sync, entry, payload, (envelope) => this.provider.webhook.read(envelope), replayOf)
  }
}

/** The `npm run inbox:replay` replayer for one provider's rows; a replay verifies nothing again, so it needs no key. */
export function inboxReplayer (sync: OrderSync, provider: { name: Provider, webhook: ProviderWebhook }): (row: StoredInboxRow) => Promise<IngestResult> {
  const ingest = new WebhookIngest(sync, provider, { verifier: null, toleranceSeconds: 0 })
  return (row) => ingest.replay(row)
}
