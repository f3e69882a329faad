import { isUtf8 } from 'node:buffer'
import { unstorableCharacter } from './text.js'

/**
 * Deepest nesting of arrays and objects a payload may have. GameSO's order is four levels deep
 * (envelope, data, items, item) and MidasBuy's five (envelope, resource, order_items, item,
 * price): 64 leaves room for anything either may add, while every piece of code that walks a
 * payload recursively — V8's JSON.stringify over a field kept verbatim, PostgreSQL's jsonb parser
 * (bounded by its max_stack_depth) — stays far from its stack limit. Nothing deeper is an order.
 */
export const MAX_PAYLOAD_DEPTH = 64

/** What in a payload PostgreSQL cannot hold, and where: `path` names the field as `body.data.items[0].sku`. */
export interface UnstorableContent {
  path: string
  problem: string
}

interface Visit {
  value: unknown
  depth: number
  parent: Visit | null
  key: string | number | null
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** A path this many keys long or more shows its first and last keys only. */
const PATH_KEYS_SHOWN = 12

function pathSegment (key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  // Keys that are not plain identifiers are written as JSON strings (ASCII escapes included), so
  // the path itself is printable and storable whatever the key held.
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key.slice(0, 64))}]`
}

/** `body.data.items[0]["odd key"]`; `body.data.extra[0][0]…(52 more)…[0][0]` for a very deep one. */
function pathOf (visit: Visit, root: string, lastKey?: string): string {
  const keys: Array<string | number> = []
  if (lastKey !== undefined) keys.push(lastKey)
  for (let at: Visit | null = visit; at !== null && at.key !== null; at = at.parent) keys.push(at.key)
  const segments = keys.reverse().map(pathSegment)
  if (segments.length <= PATH_KEYS_SHOWN) return root + segments.join('')
  const head = segments.slice(0, PATH_KEYS_SHOWN - 2).join('')
  const tail = segments.slice(-2).join('')
  return `${root}${head}…(${segments.length - PATH_KEYS_SHOWN} more)…${tail}`
}

/**
 * The first thing in a parsed JSON value that PostgreSQL cannot store — a NUL or an unpaired
 * surrogate in any string or key, or nesting deeper than MAX_PAYLOAD_DEPTH — or null. Walks with
 * an explicit stack, not recursion: the input's depth is exactly what is not yet known.
 */
export function findUnstorableContent (value: unknown, root = 'body'): UnstorableContent | null {
  const stack: Visit[] = [{ value, depth: 0, parent: null, key: null }]
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const current = visit.value
    if (typeof current === 'string') {
      const problem = unstorableCharacter(current)
      if (problem !== null) return { path: pathOf(visit, root), problem }
      continue
    }
    if (typeof current !== 'object' || current === null) continue
    const depth = visit.depth + 1
    if (depth > MAX_PAYLOAD_DEPTH) return { path: pathOf(visit, root), problem: `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels` }
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) stack.push({ value: current[index], depth, parent: visit, key: index })
      continue
    }
    const keys = Object.keys(current)
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index] as string
      const problem = unstorableCharacter(key)
      if (problem !== null) return { path: pathOf(visit, root, key), problem: `has a key that ${problem}` }
      stack.push({ value: (current as Record<string, unknown>)[key], depth, parent: visit, key })
    }
  }
  return null
}

/**
 * Why a verified webhook body cannot be stored as an order, in the words of the 400 answer, or
 * null. The body must be UTF-8 (RFC 8259 §8.1): decoding anything else would quietly put U+FFFD
 * where the sender's bytes were. The same rule for every provider.
 */
export function unstorablePayloadReason (body: Buffer, payload: unknown): string | null {
  if (!isUtf8(body)) return 'body: is not valid UTF-8'
  const found = findUnstorableContent(payload)
  return found === null ? null : `${found.path}: ${found.problem}`
}
