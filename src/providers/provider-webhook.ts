import type { IncomingHttpHeaders } from 'node:http'
import type { z } from 'zod'
import type { Config } from '../config.js'
import type { OrderSnapshot } from '../domain/order.js'
import { describeValidation } from '../errors.js'

/** What a stored delivery can be acknowledged with; `invalid` is answered 400 instead. */
export const ACKNOWLEDGED_OUTCOMES = ['applied', 'duplicate', 'stale', 'ignored'] as const
export type AcknowledgedOutcome = typeof ACKNOWLEDGED_OUTCOMES[number]

/** Why a signature check failed; with `timestamp`, the label of the signature-failure counter. */
export type SignatureFailureReason = 'missing' | 'malformed' | 'mismatch'

export type WebhookSignatureCheck =
  /** `signedAt`: the clock the signature covers when it comes in a header (Unix seconds, as sent). */
  | { valid: true, signedAt?: string }
  /** `message`: the text of the 401, naming what was wrong without repeating what was sent. */
  | { valid: false, reason: SignatureFailureReason, message: string }

/** Checks one delivery's signature over its exact bytes, with the keys the configuration holds. */
export interface WebhookVerifier {
  check (body: Buffer, headers: IncomingHttpHeaders): WebhookSignatureCheck
  /** Lower-case names of the headers kept with the raw body in the inbox (what re-verifying needs, and audit context). */
  readonly keptHeaders: readonly string[]
}

/** What a provider reads in a verified, storable envelope: a snapshot to merge, or why there is none. */
export type DeliveryReading = { snapshot: OrderSnapshot } | { outcome: 'ignored' | 'invalid', error: string }

/**
 * Where the clock the timestamp tolerance checks is: in a signed header (checked before the body
 * is parsed; anything but Unix seconds is refused), or in the parsed body (checked only when the
 * provider can read it there; a body it cannot read is judged by the schema instead).
 */
export type SignedClock =
  | { in: 'header', label: string }
  | { in: 'body', label: string, read: (payload: unknown) => number | null }

/** How a provider answers. Its 200 body, and, when it has one, its own failure shape. */
export interface WebhookReplies {
  /** The 200 body, for the outcomes of the envelopes of one delivery (one, unless the body was an array). */
  acknowledge (outcomes: readonly AcknowledgedOutcome[]): unknown
  readonly acknowledgedSchema: z.ZodType
  /**
   * null: failures are the service's `{status, code, message}`. Otherwise the provider's body for a
   * failure, and the status every server-side failure is answered with (MidasBuy retries its 500).
   */
  readonly failure: null | {
    readonly schema: z.ZodType
    /** The shape in words, for the docs: `{processed, message}`. */
    readonly shape: string
    body (message: string): unknown
    readonly serverErrorStatus: number
  }
  /** The statuses the route documents besides 200. */
  readonly failureStatuses: readonly number[]
}

/**
 * The webhook half of a provider module: everything generic ingestion (`services/webhook-ingest.ts`)
 * and the one webhook route factory (`routes/webhooks.ts`) need from one upstream.
 */
export interface ProviderWebhook {
  /** The fixed route path (SPEC §2.1). */
  readonly path: string
  readonly summary: string
  /** The OpenAPI description, which names the configured signature header. */
  describe (config: Config): string
  /** The verifier the configuration asks for, or null when it holds no key (every live delivery is then refused). */
  verifierFromConfig (config: Config): WebhookVerifier | null
  /** The refusal while no key is configured: its status (the upstream retries it) and text. */
  readonly notConfigured: { readonly status: number, readonly message: string }
  /** The variable that holds the key, named in the warning a start without it logs. */
  readonly requires: string
  /** Lower-case names of the headers its signature may come in (the configured one, and the default): logs censor them. */
  secretHeaders (config: Config): readonly string[]
  readonly clock: SignedClock
  /**
   * Whether the body may be a JSON array of envelopes, each stored and merged on its own, and at
   * most how many; null: a body is one envelope. A longer array is stored whole as invalid.
   */
  readonly arrayBodies: { readonly maxEnvelopes: number } | null
  /** The event type and order reference an envelope names, when it names them, so even an invalid row can be found by order. */
  labels (envelope: unknown): { eventType: string | null, reference: string | null }
  /** An envelope → the snapshot it carries, or why it carries none. */
  read (envelope: unknown): DeliveryReading
  readonly replies: WebhookReplies
}

/** Validation messages are for people: past this many fields the rest are only counted. */
const MAX_REPORTED_ISSUES = 20

/** "body.resource.order_status: Invalid option; …", in the words of the 400 answer. */
export function describeIssues (issues: readonly z.core.$ZodIssue[]): string {
  const shown = describeValidation('body', issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    instancePath: `/${issue.path.map(String).join('/')}`,
    message: issue.message
  })))
  return issues.length > MAX_REPORTED_ISSUES ? `${shown}; and ${issues.length - MAX_REPORTED_ISSUES} more` : shown
}

/** A header's one value; null when it is absent or empty, an array when it was repeated. */
export function headerValue (headers: IncomingHttpHeaders, name: string): string | string[] | null {
  const value = headers[name]
  return value === undefined || value === '' ? null : value
}
