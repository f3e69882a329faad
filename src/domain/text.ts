// Rules about the characters of a string, for the two places that care: PostgreSQL, which cannot
// hold some of them, and identifiers a merchant sends, which must survive logs, URLs and GameSO.

const REPLACEMENT_CHARACTER = '\uFFFD'

function codePointLabel (character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Why PostgreSQL cannot store this string in `text` or `jsonb`, or null when it can. NUL is
 * refused by both (22021, 22P05); a UTF-16 surrogate without its pair has no UTF-8 form: `jsonb`
 * refuses its escape (22P02) and `text` would silently receive U+FFFD instead.
 */
export function unstorableCharacter (value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000)'
  if (!value.isWellFormed()) {
    const lone = /\p{Cs}/u.exec(value)?.[0] ?? '\uD800'
    return `contains an unpaired UTF-16 surrogate (${codePointLabel(lone)})`
  }
  return null
}

/**
 * The string with whatever PostgreSQL cannot store replaced by U+FFFD. For text derived from a
 * payload that is stored beside it (event type, reference, header values, error messages): the
 * exact bytes are kept elsewhere, so a readable stand-in loses nothing.
 */
export function storableText (value: string): string {
  return value.replaceAll('\u0000', REPLACEMENT_CHARACTER).toWellFormed()
}

/** storableText for a value that may be absent. */
export function storableTextOrNull (value: string | null): string | null {
  return value === null ? null : storableText(value)
}

// Control characters (C0, DEL, C1), surrogates without their pair, and the line and paragraph
// separators: what no identifier needs and what breaks a log line, a header or a URL.
const NON_PRINTABLE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u

/** Why this string is not printable text, or null when it is. */
export function nonPrintableCharacter (value: string): string | null {
  const found = NON_PRINTABLE.exec(value)?.[0]
  if (found === undefined) return null
  if (found === '\u0000') return 'must not contain a NUL character (U+0000)'
  if (/\p{Cs}/u.test(found)) return `must not contain an unpaired UTF-16 surrogate (${codePointLabel(found)})`
  return `must not contain the control character ${codePointLabel(found)}`
}
