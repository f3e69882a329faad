import fc from 'fast-check'

/**
 * JSON text for a hostile value: anything JSON can carry, plus what has hurt before — NUL and lone
 * surrogates in strings and keys, numbers no column holds, nesting far past any bound, `__proto__`
 * keys. Text rather than values, because some of these (deep nesting, 1e400) cannot be built with
 * JSON.stringify.
 */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 40 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"x\\udfffy"', '"\\u001b[31m"', '""', '"."', '".."', '"../../x"'),
  fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '9223372036854775808', '0.1', '1.5', '-1'),
  fc.integer({ min: 65, max: 3000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.integer({ min: 65, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.constantFrom('{"__proto__":{"status":"completed"}}', '{"__proto__":null}', '{"constructor":{"prototype":{"x":1}}}', '{"k\\u0000":1}'),
  fc.constantFrom('null', 'true', '[]', '{}')
)

/** Replaces the one string `"@@HOSTILE@@"` in JSON text with hostile JSON text. */
export function withHostile (template: unknown, hostile: string): Buffer {
  return Buffer.from(JSON.stringify(template).replace('"@@HOSTILE@@"', hostile))
}

/** Every byte of `bytes` percent-encoded: a URL component that may decode to anything, invalid UTF-8 included. */
export function percentEncodeBytes (bytes: Uint8Array): string {
  return [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('')
}
