import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../../dist/simulator/cli.js', import.meta.url))
const KEY = 'k'

describe('simulator as a process (node dist/simulator/cli.js)', () => {
  function run (env: Record<string, string>) {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return { child, exited, output: () => ({ stdout, stderr }) }
  }

  it('prints the listening line, serves the API and exits 0 on SIGTERM', async () => {
    const proc = run({ SIMULATOR_PORT: '0', SIMULATOR_API_KEY: KEY, SIMULATOR_SEED: '9', SIMULATOR_LOG_LEVEL: 'warn' })
    const deadline = Date.now() + 15_000
    let url: string | undefined
    while (!url) {
      url = /^simulator listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(proc.output().stdout)?.[1]
      if (Date.now() > deadline) throw new Error(`no listening line:\n${JSON.stringify(proc.output())}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const created = await fetch(`${url}/v1/orders`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ reference_id: 'proc-1', user_id: 'u', items: [{ sku: 'DIAMOND_100' }] })
    })
    expect(created.status).toBe(200)
    const stats = await (await fetch(`${url}/_control/stats`)).json() as { api: { total: number } }
    expect(stats.api.total).toBe(1)
    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  })

  it('refuses a bad configuration, naming each variable, with exit code 1', async () => {
    const proc = run({ SIMULATOR_PORT: 'eighty', SIMULATOR_ERROR_RATE: '5' })
    expect(await proc.exited).toBe(1)
    expect(proc.output().stderr).toMatch(/SIMULATOR_PORT/)
    expect(proc.output().stderr).toMatch(/SIMULATOR_ERROR_RATE/)
  })
})
