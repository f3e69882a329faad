import { z } from 'zod'
import { nonPrintableCharacter } from './text.js'

// What an identifier or a text filter a merchant sends may hold. GameSO's docs give no alphabet
// for reference_id (upstream/gameso.md §2): these rules are the mirror's own. They keep out what
// PostgreSQL cannot store, what breaks a log line or a header, and what a URL path cannot carry.

export const MAX_IDENTIFIER_LENGTH = 255

function refusePrintable (value: string, context: z.RefinementCtx): void {
  const problem = nonPrintableCharacter(value)
  if (problem !== null) context.addIssue({ code: 'custom', input: value, message: problem })
}

/** Printable text (see text.ts), 1 to `max` characters. */
export function printableTextSchema (max = MAX_IDENTIFIER_LENGTH) {
  return z.string({ error: (issue) => issue.input === undefined ? 'is required' : 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine(refusePrintable)
}

/** Printable text of at most `max` characters, or empty, null or absent (optional text fields). */
export function optionalPrintableTextSchema (max = MAX_IDENTIFIER_LENGTH) {
  return z.string({ error: 'must be a string' })
    .max(max, `must be at most ${max} characters`)
    .superRefine(refusePrintable)
    .nullish()
}

// `.` and `..` are path steps to every URL parser: in GET /v1/orders/{reference_id} they name the
// parent route, and forwarded to GameSO they would too, so they can never name one order.
const DOT_SEGMENT = /^\.{1,2}$/

/**
 * A reference the mirror puts in a URL path — its own routes and the upstream's: printable, 1 to
 * 255 characters, and not `.` or `..`. Everything else is percent-encoded on the way out.
 */
export function pathReferenceSchema () {
  return printableTextSchema().refine((value) => !DOT_SEGMENT.test(value), 'must not be "." or ".."')
}
