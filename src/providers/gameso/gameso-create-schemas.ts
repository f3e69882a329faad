import { z } from 'zod'
import { optionalPrintableTextSchema, pathReferenceSchema, printableTextSchema } from '../../domain/identifier-schemas.js'

// GameSO's create-order request (upstream/gameso.md §2.1). The bounds are the ones the mirror can
// store (gameso-schemas.ts): an order GameSO would accept but the mirror could not keep must not
// get through. The text fields are printable (identifier-schemas.ts), and reference_id, which
// later travels in GameSO's URL path, is never "." or "..". Loose objects, so fields GameSO knows
// and the mirror does not are forwarded as sent.

const optionalText = optionalPrintableTextSchema()

export const gamesoCreateItemSchema = z.looseObject({
  sku: printableTextSchema(),
  quantity: z.number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1_000_000, 'must be at most 1000000')
    .optional()
}, { error: 'must be an object' })

export const gamesoCreateOrderSchema = z.looseObject({
  reference_id: pathReferenceSchema(),
  user_id: printableTextSchema(),
  items: z.array(gamesoCreateItemSchema, { error: (issue) => issue.input === undefined ? 'is required' : 'must be an array' })
    .min(1, 'must contain at least 1 item')
    .max(1000, 'must contain at most 1000 items'),
  server_id: optionalText,
  character_id: optionalText
})

export type GameSoCreateOrder = z.infer<typeof gamesoCreateOrderSchema>

/** GameSO's default when an item names no quantity. */
export const DEFAULT_ITEM_QUANTITY = 1
