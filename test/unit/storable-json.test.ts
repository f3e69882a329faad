import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findUnstorableContent, MAX_PAYLOAD_DEPTH, unstorablePayloadReason } from '../../src/domain/storable-json.js'
import { nonPrintableCharacter, storableText, unstorableCharacter } from '../../src/domain/text.js'
import { propertyParameters } from '../helpers/property.js'

function nested (depth: number): unknown {
  let value: unknown = 'leaf'
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { inner: value }
  return value
}

describe('what PostgreSQL can store', () => {
  it.each([
    ['a\u0000b', 'contains a NUL character (U+0000)'],
    ['a\uD800b', 'contains an unpaired UTF-16 surrogate (U+D800)'],
    ['\uDC00', 'contains an unpaired UTF-16 surrogate (U+DC00)']
  ])('%j is refused: %s', (value, problem) => {
    expect(unstorableCharacter(value)).toBe(problem)
  })

  it.each(['plain', '\u00e9t\u00e9', '\uD83D\uDE00 paired surrogates', '\u001b[31m controls are storable', ''])('%j is storable', (value) => {
    expect(unstorableCharacter(value)).toBeNull()
  })

  it('storableText makes any string storable, and leaves storable ones alone', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => {
      const stored = storableText(value)
      expect(unstorableCharacter(stored)).toBeNull()
      if (unstorableCharacter(value) === null) expect(stored).toBe(value)
      expect(storableText(stored)).toBe(stored)
    }), propertyParameters(500))
  })

  it('names the field of the first unstorable string or key, with the path printable', () => {
    expect(findUnstorableContent({ data: { items: [{ sku: 'ok' }, { sku: 'a\u0000' }] } }))
      .toEqual({ path: 'body.data.items[1].sku', problem: 'contains a NUL character (U+0000)' })
    expect(findUnstorableContent({ data: { 'bad\u0000key': 1 } }))
      .toEqual({ path: 'body.data["bad\\u0000key"]', problem: 'has a key that contains a NUL character (U+0000)' })
    expect(findUnstorableContent({ 'odd key': ['\uD800'] }))
      .toEqual({ path: 'body["odd key"][0]', problem: 'contains an unpaired UTF-16 surrogate (U+D800)' })
  })

  it(`allows ${MAX_PAYLOAD_DEPTH} levels of nesting and refuses one more, without recursing`, () => {
    expect(findUnstorableContent(nested(MAX_PAYLOAD_DEPTH))).toBeNull()
    expect(findUnstorableContent(nested(MAX_PAYLOAD_DEPTH + 1))?.problem).toBe(`is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`)
    // Far deeper than the stack would allow a recursive walk (JSON.parse itself does not recurse).
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown
    const found = findUnstorableContent(deep)
    expect(found?.path).toMatch(/^body(\[0\]){10}…\(\d+ more\)…\[0\]\[0\]$/)
  })

  it('accepts every JSON value whose strings and keys are storable, within the depth', () => {
    const storableString = fc.string({ unit: 'grapheme' })
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), storableString,
        fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(storableString, tie('value'), { maxKeys: 4 }))
    })).value
    fc.assert(fc.property(json, (value) => {
      expect(findUnstorableContent(JSON.parse(JSON.stringify(value)))).toBeNull()
    }), propertyParameters(300))
  })

  it('finds a NUL or lone surrogate wherever it is put', () => {
    const bad = fc.constantFrom('\u0000', '\uD800', '\uDFFF')
    fc.assert(fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 10 }), bad, fc.boolean(), (keys, character, inKey) => {
      let value: unknown = inKey ? { [`k${character}`]: 1 } : `x${character}`
      for (const key of [...keys].reverse()) value = { [key]: value }
      expect(findUnstorableContent(value)).not.toBeNull()
    }), propertyParameters(200))
  })

  it('refuses a body that is not UTF-8 before looking at its strings', () => {
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) // {"a":"\xff"}
    expect(unstorablePayloadReason(body, JSON.parse(body.toString('utf8')))).toBe('body: is not valid UTF-8')
    expect(unstorablePayloadReason(Buffer.from('{"a":"ok"}'), { a: 'ok' })).toBeNull()
  })
})

describe('printable text', () => {
  it.each([
    ['a\u0000b', 'must not contain a NUL character (U+0000)'],
    ['a\uD800', 'must not contain an unpaired UTF-16 surrogate (U+D800)'],
    ['tab\there', 'must not contain the control character U+0009'],
    ['del\u007f', 'must not contain the control character U+007F'],
    ['c1\u0085', 'must not contain the control character U+0085'],
    ['line\u2028sep', 'must not contain the control character U+2028']
  ])('%j: %s', (value, problem) => {
    expect(nonPrintableCharacter(value)).toBe(problem)
  })

  it.each(['ref_RLUFNUHGXXX', 'with space', 'a/b?c#d%2F', '\u00e9\u4e2d\uD83D\uDE00'])('%j is printable', (value) => {
    expect(nonPrintableCharacter(value)).toBeNull()
  })
})
