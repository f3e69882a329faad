import type { KeyObject } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { AppError, BadRequestError } from '../errors.js'
import { midasbuyOrderToSnapshot } from '../providers/midasbuy/midasbuy-mapping.js'
import { isPaymentOrderResource, midasbuyOrderSchema, midasbuyWebhookEnvelopeSchema } from '../providers/midasbuy/midasbuy-schemas.js'
import {
  createMidasBuySignatureVerifier, NONCE_HEADER, TIMESTAMP_HEADER, type MidasBuySignatureVerifier
} from '../providers/midasbuy/midasbuy-signature.js'
import type { InboxEntry, StoredInboxRow } from '../repositories/inbox-repository.js'
import type { OrderSync } from './order-sync.js'
import {
  describeIssues, inboxEntryOf, settleDelivery, storedPayload, WebhookRejectedError, type DeliveryReading, type IngestResult
} from './webhook-ingest.js'

export interface MidasBuyWebhookIngestOptions {
  /** The platform public key; null when none is configured (every live delivery then answers 500). */
  publicKey: KeyObject | null
  /** Lower-case header name. */
  signatureHeader: string
  /** 0 disables the timestamp check. */
  toleranceSeconds: number
  /** Epoch milliseconds; injectable so tests can pin the clock. */
  now?: () => number
}

/** Headers worth keeping with the raw body: what re-verifying the signature needs, and audit context. */
const KEPT_HEADERS = ['content-type', 'content-length', 'user-agent', 'x-request-id', 'x-forwarded-for', TIMESTAMP_HEADER, NONCE_HEADER, 'txgw-serial']

const UNIX_SECONDS = /^\d{1,12}$/

function resourceOf (payload: unknown): Record<string, unknown> | null {
  if (typeof payload !== 'object' || payload === null) return null
  const resource = (payload as { resource?: unknown }).resource
  return typeof resource === 'object' && resource !== null ? resource as Record<string, unknown> : null
}

/** The payment order a payload names, when it names one, so even an invalid row can be found by order. */
function referenceOf (payload: unknown): string | null {
  const reference = resourceOf(payload)?.payment_order_id
  return typeof reference === 'string' && reference.length > 0 ? reference : null
}

function eventTypeOf (payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null
  const event = (payload as { event_type?: unknown }).event_type
  return typeof event === 'string' ? event : null
}

/**
 * MidasBuy payment notification ingestion (SPEC §2.1), the same path as GameSO's: verify the
 * signature over the exact bytes, check the timestamp, parse, and hand the delivery to OrderSync,
 * which stores it in the inbox in the same transaction as its effect.
 */
export class MidasBuyWebhookIngest {
  private readonly verifySignature: MidasBuySignatureVerifier | null
  private readonly now: () => number

  constructor (private readonly sync: OrderSync, private readonly options: MidasBuyWebhookIngestOptions) {
    this.verifySignature = options.publicKey === null ? null : createMidasBuySignatureVerifier(options.publicKey, options.signatureHeader)
    this.now = options.now ?? Date.now
  }

  /** Throws an AppError for every refusal that stores nothing; otherwise stores and returns the outcome. */
  async ingest (body: Buffer, headers: IncomingHttpHeaders): Promise<IngestResult> {
    if (this.verifySignature === null) {
      throw new AppError(500, 'WEBHOOK_NOT_CONFIGURED', 'No MidasBuy platform public key is configured; retry later')
    }
    const signature = this.verifySignature(body, headers)
    if (!signature.valid) {
      const problem = signature.reason === 'missing' ? 'Missing' : 'Invalid'
      throw new WebhookRejectedError(signature.reason, 'INVALID_SIGNATURE', `${problem} ${signature.header} header`)
    }
    this.checkTimestamp(signature.timestamp)

    let payload: unknown
    try {
      payload = JSON.parse(body.toString('utf8'))
    } catch {
      throw new BadRequestError('Body is not valid JSON')
    }

    const entry = inboxEntryOf('midasbuy', body, headers, [...KEPT_HEADERS, this.options.signatureHeader],
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

  /** Txgw-Timestamp is Unix seconds (as MidasPay documents it; MidasBuy's docs cut off before saying). */
  private checkTimestamp (timestamp: string): void {
    const tolerance = this.options.toleranceSeconds
    if (tolerance === 0) return
    if (!UNIX_SECONDS.test(timestamp)) {
      throw new WebhookRejectedError('timestamp', 'INVALID_TIMESTAMP', `${TIMESTAMP_HEADER} must be Unix seconds`)
    }
    const skewSeconds = Math.abs(this.now() / 1000 - Number(timestamp))
    if (skewSeconds > tolerance) {
      throw new WebhookRejectedError('timestamp', 'TIMESTAMP_OUT_OF_TOLERANCE',
        `${TIMESTAMP_HEADER} is ${Math.round(skewSeconds)} s from now; at most ${tolerance} s is accepted`)
    }
  }

  private process (entry: InboxEntry, payload: unknown, replayOf?: string): Promise<IngestResult> {
    return settleDelivery(this.sync, entry, payload, readMidasBuyPayload, replayOf)
  }
}

/** A MidasBuy envelope → the payment order snapshot it carries, or why it carries none. */
function readMidasBuyPayload (payload: unknown): DeliveryReading {
  const envelope = midasbuyWebhookEnvelopeSchema.safeParse(payload)
  if (!envelope.success) return { outcome: 'invalid', error: describeIssues(envelope.error.issues) }
  if (!isPaymentOrderResource(envelope.data.resource)) {
    return { outcome: 'ignored', error: `event ${envelope.data.event_type ?? '(no event_type)'} is not a payment order notification` }
  }
  const order = midasbuyOrderSchema.safeParse(envelope.data.resource)
  if (!order.success) {
    const issues = order.error.issues.map((issue) => ({ ...issue, path: ['resource', ...issue.path] }))
    return { outcome: 'invalid', error: describeIssues(issues) }
  }
  return { snapshot: midasbuyOrderToSnapshot(order.data) }
}

/** The `npm run inbox:replay` replayer for MidasBuy rows; a replay verifies nothing again, so it needs no key. */
export function midasbuyInboxReplayer (sync: OrderSync): (row: StoredInboxRow) => Promise<IngestResult> {
  const ingest = new MidasBuyWebhookIngest(sync, { publicKey: null, signatureHeader: 'txgw-signature', toleranceSeconds: 0 })
  return (row) => ingest.replay(row)
}
