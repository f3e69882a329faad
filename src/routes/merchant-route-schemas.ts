import { z } from 'zod'
import { pathReferenceSchema } from '../domain/identifier-schemas.js'

// Request schemas more than one merchant route shares.

export const referenceParamsSchema = z.object({
  reference_id: pathReferenceSchema().describe('The reference_id the merchant chose when creating the order (printable, at most 255 characters, not "." or "..")')
})

/**
 * A whole number in a query string, written in decimal digits only. z.coerce.number would take
 * `0x10`, `1e2`, `+7` and ` 7` as numbers; none of those is a way anyone writes a page size.
 */
export function decimalIntegerQuerySchema (min: number, max: number) {
  return z.string()
    .regex(/^\d{1,15}$/, 'must be a whole number written in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
}
