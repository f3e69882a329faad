import { z } from 'zod'

// GameSO's create-order request (upstream/gameso.md §2.1). The bounds are the ones the mirror can
// store (gameso-schemas.ts): an order GameSO would accept but the mirror could not keep must not
// get through. Loose objects, so fields GameSO knows and the mirror does not are forwarded as sent.

function requiredText (max: number) {
  return z.string({ error: (issue) => issue.input === undefined ? 'is required' : 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
}

const optionalText = z.string({ error: 'must be a string' }).max(255, 'must be at most 255 characters').nullish()

export const gamesoCreateItemSchema = z.looseObject({
  sku: requiredText(255),
  quantity: z.number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1_000_000, 'must be at most 1000000')
    .optional()
}, { error: 'must be an object' })

export const gamesoCreateOrderSchema = z.looseObject({
  reference_id: requiredText(255),
  user_id: requiredText(255),
  items: z.array(gamesoCreateItemSchema, { error: (issue) => issue.input === undefined ? 'is required' : 'must be an array' })
    .min(1, 'must contain at least 1 item')
    .max(1000, 'must contain at most 1000 items'),
  server_id: optionalText,
  character_id: optionalText
})

export type GameSoCreateOrder = z.infer<typeof gamesoCreateOrderSchema>

/** GameSO's default when an item names no quantity. */
export const DEFAULT_ITEM_QUANTITY = 1
