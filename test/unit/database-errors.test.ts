import { describe, expect, it } from 'vitest'
import { isDatabaseUnavailable, isDataException } from '../../src/db/database.js'

describe('classifying database errors', () => {
  it.each([
    ['22021', 'invalid byte sequence (NUL in text)'],
    ['22P05', 'unsupported Unicode escape (NUL in jsonb)'],
    ['22P02', 'invalid text representation (lone surrogate in jsonb)'],
    ['22003', 'numeric value out of range'],
    ['54001', 'stack depth limit exceeded']
  ])('%s (%s) is the input\'s fault, not an outage', (code) => {
    expect(isDataException(Object.assign(new Error('refused'), { code }))).toBe(true)
    expect(isDatabaseUnavailable(Object.assign(new Error('refused'), { code }))).toBe(false)
  })

  it.each(['08006', '57P01', '53300', '23505', '42P01', undefined])('%s is not a data exception', (code) => {
    expect(isDataException(Object.assign(new Error('x'), { code }))).toBe(false)
  })

  it('a statement cancelled by its statement_timeout counts as the database being unavailable (503, retry)', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(true)
  })
})
