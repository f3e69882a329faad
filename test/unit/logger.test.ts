import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.js'
import { loggerOptions } from '../../src/logger.js'

function capture (headerName?: string) {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _encoding, done) { lines.push(chunk.toString()); done() } })
  const config = parseConfig({ LOG_LEVEL: 'info', ...(headerName ? { GAMESO_SIGNATURE_HEADER: headerName } : {}) })
  return { log: pino(loggerOptions(config, false), sink), lines }
}

describe('logger redaction', () => {
  it('censors API keys, authorization and signature headers in request logs', () => {
    const { log, lines } = capture('X-Custom-Sig')
    log.info({
      req: {
        headers: {
          'x-api-key': 'merchant-key-123',
          authorization: 'Bearer token-456',
          'x-gameso-signature': 'abcdef0123',
          'x-custom-sig': 'deadbeef99',
          'user-agent': 'curl/8'
        }
      }
    }, 'incoming request')
    const output = lines.join('')
    for (const secret of ['merchant-key-123', 'token-456', 'abcdef0123', 'deadbeef99']) expect(output).not.toContain(secret)
    expect(output).toContain('curl/8')
    expect(JSON.parse(output).req.headers['x-api-key']).toBe('[redacted]')
  })

  it('censors secret-named fields', () => {
    const { log, lines } = capture()
    log.info({ gameso: { apiKey: 'k-789', secret: 's-000' }, password: 'p-111' }, 'config')
    const output = lines.join('')
    for (const secret of ['k-789', 's-000', 'p-111']) expect(output).not.toContain(secret)
  })

  it('writes JSON lines when the destination is not a terminal', () => {
    const { log, lines } = capture()
    log.info({ referenceId: 'r1' }, 'hello')
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'hello', referenceId: 'r1', level: 30 })
  })
})
