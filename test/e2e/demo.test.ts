import { spawn } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// `npm run demo` as the built CLI, a real process with its own embedded PostgreSQL, simulator and
// service: every provider of the registry places orders, and the MidasBuy order whose
// notifications are all withheld reaches Finished only through the reconciler's OrderQuery polls.
// The test asks the demo's own mirror about that order, rather than trusting what the demo printed.

const DEMO_ENTRY = fileURLToPath(new URL('../../dist/cli/demo.js', import.meta.url))
const DEMO_MERCHANT_KEY = 'demo-merchant-key'
const RUN_TIMEOUT_MS = 150_000

interface History {
  status_changes: Array<{ to_provider_status: string, source: string }>
  inbox: unknown[]
}

interface Demo {
  output (): string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  kill (signal: NodeJS.Signals): void
  /** Resolves with the first match in the output; rejects when the demo exits or the time is up first. */
  waitFor (pattern: RegExp): Promise<RegExpExecArray>
}

function startDemo (args: string[]): Demo {
  const child = spawn(process.execPath, [DEMO_ENTRY, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  let ended = false
  exited.then(() => { ended = true }, () => {})
  return {
    output: () => output,
    exited,
    kill: (signal) => { if (!ended) child.kill(signal) },
    async waitFor (pattern) {
      const deadline = Date.now() + RUN_TIMEOUT_MS
      for (;;) {
        const match = pattern.exec(output)
        if (match) return match
        if (ended) throw new Error(`the demo exited before printing ${String(pattern)}:\n${output}`)
        if (Date.now() > deadline) throw new Error(`the demo did not print ${String(pattern)} in time:\n${output}`)
        await delay(100)
      }
    }
  }
}

describe('npm run demo', () => {
  let demo: Demo | undefined

  afterAll(async () => {
    demo?.kill('SIGKILL')
    await demo?.exited
  })

  it('shows both providers, heals the MidasBuy order with no notifications by polling, and stops on Ctrl-C', async () => {
    demo = startDemo(['--orders', '2', '--drop-rate', '0', '--seed', '7', '--keep-running'])
    const [, serviceUrl] = await demo.waitFor(/order-mirror\s+(http:\/\/127\.0\.0\.1:\d+)/)
    await demo.waitFor(/Press Ctrl-C to stop everything\./)
    const output = demo.output()

    expect(output).toMatch(/4 of 4 orders final/)
    expect(output).toMatch(/→ GameSO\s+demo-\w+-01\s+pending/)
    const [, withheld] = /→ MidasBuy\s+(SGDEMO\w+01)\s+Created .*\(MidasBuy sends none of its notifications\)/.exec(output) ?? []
    expect(withheld).toBeDefined()
    expect(output).toMatch(new RegExp(`✓ MidasBuy\\s+${withheld}\\s+Finished .*healed by the reconciler \\(source poll`))
    const [, events, valid] = /the merchant receiver got (\d+) events, one per status change, (\d+) with a valid signature/.exec(output) ?? []
    expect(Number(events)).toBeGreaterThan(0)
    expect(valid).toBe(events)

    const response = await fetch(`${serviceUrl}/v1/orders/${withheld}/history?provider=midasbuy`, { headers: { 'x-api-key': DEMO_MERCHANT_KEY } })
    expect(response.status).toBe(200)
    const history = await response.json() as History
    // Newest first: the mirror heard of it only by polling, and no notification ever reached its inbox.
    expect(history.status_changes[0]).toMatchObject({ to_provider_status: 'Finished', source: 'poll' })
    expect(history.status_changes.every((change) => change.source !== 'webhook')).toBe(true)
    expect(history.inbox).toEqual([])

    demo.kill('SIGINT')
    expect(await demo.exited).toEqual({ code: 130, signal: null })
    // Its service went down with it.
    await expect(fetch(`${serviceUrl}/health/live`)).rejects.toThrow()
  }, RUN_TIMEOUT_MS + 30_000)
})
