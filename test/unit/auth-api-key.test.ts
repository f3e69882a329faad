import { describe, expect, it } from 'vitest'
import { createApiKeyMatcher } from '../../src/plugins/auth.js'

const KEY_A = 'merchant-key-alpha-0123456789'
const KEY_B = 'merchant-key-bravo-9876543210'

describe('API key matcher', () => {
  const match = createApiKeyMatcher([KEY_A, KEY_B])

  it('names the configured key that was presented, never the key itself', () => {
    expect(match(KEY_A)).toBe('key-1')
    expect(match(KEY_B)).toBe('key-2')
  })

  it.each([
    ['no key', undefined],
    ['an empty key', ''],
    ['a prefix of a key', KEY_A.slice(0, -1)],
    ['a key with more after it', `${KEY_A}x`],
    ['a key in another case', KEY_A.toUpperCase()],
    ['two keys joined', `${KEY_A}, ${KEY_B}`]
  ])('refuses %s', (_name, presented) => {
    expect(match(presented)).toBeNull()
  })

  it('refuses everything when no key is configured', () => {
    expect(createApiKeyMatcher([])(KEY_A)).toBeNull()
    expect(createApiKeyMatcher([])('')).toBeNull()
  })
})
