// A JSON array body holds several envelopes, each stored as its own inbox row. The row keeps the
// element's exact bytes as sent — a slice of the signed body, never a re-serialisation — so what
// is stored is what the sender signed, byte for byte, and the same element sent again (in the
// same array, another array, or alone) has the same bytes and hash.

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN = new Set([0x5b, 0x7b]) // [ {
const CLOSE = new Set([0x5d, 0x7d]) // ] }
const COMMA = 0x2c
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d])

function trimmed (body: Buffer, start: number, end: number): Buffer {
  let from = start
  let to = end
  while (from < to && WHITESPACE.has(body[from] as number)) from++
  while (to > from && WHITESPACE.has(body[to - 1] as number)) to--
  return body.subarray(from, to)
}

/**
 * The exact bytes of each top-level element of `body`, which must be a JSON array already known
 * to parse (JSON.parse accepted it). Works on bytes, not decoded text: every byte JSON gives
 * meaning to is ASCII, and no byte of a multi-byte UTF-8 sequence (nor of an invalid one) is, so
 * the offsets are exact whatever the strings hold.
 */
export function jsonArrayElements (body: Buffer): Buffer[] {
  const elements: Buffer[] = []
  let depth = 0
  let inString = false
  let start = -1
  for (let index = 0; index < body.length; index++) {
    const byte = body[index] as number
    if (inString) {
      if (byte === BACKSLASH) index++
      else if (byte === QUOTE) inString = false
      continue
    }
    if (byte === QUOTE) {
      inString = true
    } else if (OPEN.has(byte)) {
      depth++
      if (depth === 1) start = index + 1
    } else if (CLOSE.has(byte)) {
      if (depth === 1) {
        const last = trimmed(body, start, index)
        if (last.length > 0) elements.push(last)
      }
      depth--
    } else if (byte === COMMA && depth === 1) {
      elements.push(trimmed(body, start, index))
      start = index + 1
    }
  }
  return elements
}
