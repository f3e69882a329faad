import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseSendArguments, SAMPLE_SENDERS, SEND_USAGE, SendUsageError, webhookTarget } from '../../src/cli/send-arguments.js'

function problem (argv: string[]): string {
  try {
    parseSendArguments(argv)
  } catch (error) {
    if (error instanceof SendUsageError) return error.message
    throw error
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`)
}

describe('npm run send: command line', () => {
  it('reads a provider, an event and the options', () => {
    expect(parseSendArguments(['gameso', 'order.completed', '--ref', 'my-first-order', '--to', 'http://127.0.0.1:4000', '--key-file', 'secret.txt'])).toEqual({
      command: { kind: 'send', sender: SAMPLE_SENDERS.gameso, event: 'order.completed' },
      options: { reference: 'my-first-order', status: undefined, to: 'http://127.0.0.1:4000', keyFile: 'secret.txt' }
    })
    expect(parseSendArguments(['midasbuy', 'payment_notification', '--status', 'Refunded'])?.options.status).toBe('Refunded')
    expect(parseSendArguments(['replay', '42'])).toEqual({
      command: { kind: 'replay', inboxId: '42' },
      options: { reference: undefined, status: undefined, to: undefined, keyFile: undefined }
    })
  })

  it('answers --help with the usage, which names every provider with its events and statuses', () => {
    expect(parseSendArguments(['--help'])).toBeNull()
    expect(parseSendArguments(['gameso', '-h'])).toBeNull()
    expect(SEND_USAGE).toContain('gameso    events: order.pending, order.processing, order.completed, order.failed')
    expect(SEND_USAGE).toContain('midasbuy  events: payment_notification')
    expect(SEND_USAGE).toContain('--status: Created, Paid, Finished, Refunded')
  })

  it.each([
    [[], 'name a provider and an event, or replay and an inbox id'],
    [['stripe', 'charge.succeeded'], 'unknown provider "stripe": one of gameso, midasbuy, or replay'],
    [['gameso'], 'name the event to send: order.pending, order.processing, order.completed, order.failed'],
    [['gameso', 'order.completed', 'extra'], 'unexpected arguments: extra'],
    [['gameso', 'order.completed', '--colour', 'red'], "Unknown option '--colour'"],
    [['gameso', 'order.completed', '--ref'], "Option '--ref <value>' argument missing"],
    [['gameso', 'order.completed', '--ref', ''], '--ref must be 1 to 255 characters'],
    [['gameso', 'order.completed', '--ref', 'x'.repeat(256)], '--ref must be 1 to 255 characters'],
    [['gameso', 'order.completed', '--ref', 'a\u0000b'], '--ref must not contain control characters'],
    [['gameso', 'order.completed', '--ref', '..'], '--ref cannot be "." or "..": no URL path can name such an order'],
    [['replay'], 'replay needs the id of an inbox row, a positive whole number (got nothing)'],
    [['replay', '9223372036854775808'], 'replay needs the id of an inbox row, a positive whole number (got "9223372036854775808")'],
    [['replay', '7', '--ref', 'x'], 'replay sends the stored bytes as they are: --ref and --status do not apply']
  ])('refuses %j: %s', (argv, message) => {
    expect(problem(argv)).toContain(message)
  })

  it('takes an inbox id exactly when it is a bigint id, 1 to 9223372036854775807', () => {
    expect(parseSendArguments(['replay', '9223372036854775807'])?.command).toEqual({ kind: 'replay', inboxId: '9223372036854775807' })
    fc.assert(fc.property(fc.string({ maxLength: 25 }), (text) => {
      const valid = /^[1-9]\d{0,18}$/.test(text) && BigInt(text) <= 9223372036854775807n
      if (valid) expect(parseSendArguments(['replay', text])?.command).toEqual({ kind: 'replay', inboxId: text })
      else if (!text.startsWith('-')) expect(problem(['replay', text])).toMatch(/^replay needs the id of an inbox row/)
    }))
  })

  it('refuses any reference with a control character, and passes every other one of 1 to 255 characters through unchanged', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 255, unit: 'binary' }), (reference) => {
      fc.pre(!reference.startsWith('-') && reference !== '.' && reference !== '..')
      const argv = ['gameso', 'order.completed', `--ref=${reference}`]
      // eslint-disable-next-line no-control-regex -- the very characters the rule is about
      if (/[\u0000-\u001f\u007f-\u009f]/.test(reference)) expect(problem(argv)).toBe('--ref must not contain control characters')
      else expect(parseSendArguments(argv)?.options.reference).toBe(reference)
    }))
  })

  describe('where a delivery goes', () => {
    const gameso = SAMPLE_SENDERS.gameso

    it('is the mirror on PORT by default, read back from there', () => {
      const target = webhookTarget(undefined, 3100, gameso)
      expect(target.url.href).toBe('http://127.0.0.1:3100/webhooks/gameso')
      expect(target.mirror?.href).toBe('http://127.0.0.1:3100/')
    })

    it('is the provider route of a mirror named by its base URL, or the exact URL given', () => {
      expect(webhookTarget('https://mirror.example:8443', 3000, SAMPLE_SENDERS.midasbuy).url.href).toBe('https://mirror.example:8443/webhooks/midasbuy/payment_notification')
      const elsewhere = webhookTarget('http://127.0.0.1:9999/hooks/in', 3000, gameso)
      expect(elsewhere.url.href).toBe('http://127.0.0.1:9999/hooks/in')
      expect(elsewhere.mirror).toBeNull()
    })

    it.each(['not a url', 'ftp://host/x', 'localhost:3000', 'file:///etc/passwd'])('refuses --to %j', (to) => {
      expect(() => webhookTarget(to, 3000, gameso)).toThrow(SendUsageError)
      expect(() => webhookTarget(to, 3000, gameso)).toThrow(/^--to must be an http\(s\) URL/)
    })
  })
})
