import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../helpers/database.js'
import { freePorts } from '../../src/cli/free-port.js'

// `npm run simulator` as a sandbox, run as the built CLI in a directory of its own: with
// --with-mirror it starts a mirror on the embedded PostgreSQL wired to it both ways, keeps
// running, and Ctrl-C (SIGINT) stops both.

const SIMULATOR_ENTRY = fileURLToPath(new URL('../../dist/simulator/cli.js', import.meta.url))
const READY_TIMEOUT_MS = 90_000

interface Sandbox {
  child: ChildProcess
  output (): string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves once the output matches, with the match; rejects if the process exits first. */
  waitFor (pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
}

let workDir: string
let env: Record<string, string>
const running: Sandbox[] = []
const workDirs: string[] = []

function startSandbox (args: string[], extraEnv: Record<string, string> = {}): Sandbox {
  const child = spawn(process.execPath, [SIMULATOR_ENTRY, ...args], {
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '', ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  let ended = false
  exited.then(() => { ended = true }, () => {})
  const sandbox: Sandbox = {
    child,
    output: () => output,
    exited,
    async waitFor (pattern, timeoutMs = READY_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = pattern.exec(output)
        if (match) return match
        if (ended) throw new Error(`the sandbox exited before printing ${String(pattern)}:\n${output}`)
        if (Date.now() > deadline) throw new Error(`the sandbox did not print ${String(pattern)} in time:\n${output}`)
        await delay(50)
      }
    }
  }
  running.push(sandbox)
  return sandbox
}

function portAnswers (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

beforeEach(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'om-sandbox-'))
  workDirs.push(workDir)
  await chmod(workDir, 0o755)
  const [port, embeddedPort, simulatorPort] = await freePorts(3)
  env = {
    PORT: String(port),
    EMBEDDED_PG_PORT: String(embeddedPort),
    SIMULATOR_PORT: String(simulatorPort),
    // Passed on to the mirror: on the shared test machine an event-loop stall is the machine's, not the mirror's.
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0'
  }
})

afterEach(async () => {
  for (const sandbox of running.splice(0)) {
    if (sandbox.child.exitCode === null && sandbox.child.signalCode === null) sandbox.child.kill('SIGTERM')
    await sandbox.exited
  }
})

afterAll(async () => {
  for (const dir of workDirs) await rm(dir, { recursive: true, force: true })
})

describe('npm run simulator -- --with-mirror', () => {
  it('starts a mirror wired to the simulator both ways, keeps running, and stops both on Ctrl-C', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const sandbox = startSandbox(['--with-mirror'])
    const mirrorUrl = `http://127.0.0.1:${env.PORT}`
    await sandbox.waitFor(/Sandbox ready: order-mirror \S+ uses the simulator \S+ as GameSO and MidasBuy; the simulator's webhooks go to the mirror, signed\./)
    const apiKey = (await sandbox.waitFor(/X-API-Key: (om_local_[\w-]+)'/))[1] ?? ''
    expect(sandbox.output()).toContain(`simulator listening on http://127.0.0.1:${env.SIMULATOR_PORT}`)
    expect(sandbox.output()).toContain(`Sandbox ready: order-mirror ${mirrorUrl} uses the simulator http://127.0.0.1:${env.SIMULATOR_PORT} as GameSO and MidasBuy`)
    // The mirror's own start banner is there too, with the same local key.
    expect(sandbox.output()).toContain(`order-mirror is ready at http://localhost:${env.PORT} (embedded PostgreSQL)`)

    // create → GameSO (the simulator) → webhook → the mirror: by hand, as a merchant would.
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' }
    const created = await fetch(`${mirrorUrl}/v1/orders`, {
      method: 'POST', headers, body: JSON.stringify({ reference_id: 'sandbox-e2e-1', user_id: 'player-1', items: [{ sku: 'DIAMOND_100', quantity: 2 }] })
    })
    expect(created.status).toBe(200)
    expect(await created.json()).toMatchObject({ reference_id: 'sandbox-e2e-1', status: 'pending' })
    let history: { status_changes: Array<{ to: string, source: string }> } | undefined
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      history = await (await fetch(`${mirrorUrl}/v1/orders/sandbox-e2e-1/history`, { headers })).json() as typeof history
      if (history?.status_changes.some((change) => change.source === 'webhook')) break
      await delay(200)
    }
    const byWebhook = history?.status_changes.find((change) => change.source === 'webhook')
    expect(byWebhook?.to).toMatch(/^(completed|failed)$/)

    // A MidasBuy purchase in the simulator: its platform-signed notification reaches the mirror.
    const purchase = await fetch(`http://127.0.0.1:${env.SIMULATOR_PORT}/_control/midasbuy/purchases`, { method: 'POST' })
    const paymentOrderId = (await purchase.json() as { payment_order_id: string }).payment_order_id
    // The GET reads through by OrderQuery on a miss, so only the order's history shows that the
    // notification itself arrived: an inbox row applied by a `webhook` status change.
    let midasbuyHistory: { status_changes: Array<{ source: string }>, inbox: Array<{ outcome: string }> } | undefined
    while (Date.now() < deadline) {
      const answer = await fetch(`${mirrorUrl}/v1/orders/${paymentOrderId}/history?provider=midasbuy`, { headers })
      if (answer.status === 200) {
        midasbuyHistory = await answer.json() as typeof midasbuyHistory
        if (midasbuyHistory?.status_changes.some((change) => change.source === 'webhook')) break
      }
      await delay(200)
    }
    expect(midasbuyHistory?.status_changes.some((change) => change.source === 'webhook')).toBe(true)
    expect(midasbuyHistory?.inbox.some((delivery) => delivery.outcome === 'applied')).toBe(true)
    expect((await fetch(`${mirrorUrl}/v1/midasbuy/orders/${paymentOrderId}`, { headers })).status).toBe(200)

    sandbox.child.kill('SIGINT')
    expect(await sandbox.exited).toEqual({ code: 0, signal: null })
    // Both are gone: the mirror's port, the simulator's, and the embedded PostgreSQL the mirror started.
    expect(await portAnswers(Number(env.PORT))).toBe(false)
    expect(await portAnswers(Number(env.SIMULATOR_PORT))).toBe(false)
    expect(await portAnswers(Number(env.EMBEDDED_PG_PORT))).toBe(false)
  })

  it('brings keys of its own for a mirror on DATABASE_URL with none configured, and wires the simulator\'s webhooks to it', { timeout: READY_TIMEOUT_MS }, async () => {
    const database = await createTestDatabase({ poolSize: 2 })
    try {
      const sandbox = startSandbox(['--with-mirror'], { DATABASE_URL: database.url })
      const apiKey = (await sandbox.waitFor(/X-API-Key: (sandbox_[\w-]+)'/))[1] ?? ''
      const mirrorUrl = `http://127.0.0.1:${env.PORT}`
      expect((await fetch(`${mirrorUrl}/v1/orders/sandbox-e2e-2`, { headers: { 'x-api-key': apiKey } })).status).toBe(404)
      const settings = await (await fetch(`http://127.0.0.1:${env.SIMULATOR_PORT}/_control/settings`)).json() as { webhookUrls: string[], webhookSecretSet: boolean }
      expect(settings).toMatchObject({ webhookUrls: [`${mirrorUrl}/webhooks/gameso`], webhookSecretSet: true })
      const midasbuy = await (await fetch(`http://127.0.0.1:${env.SIMULATOR_PORT}/_control/midasbuy/settings`)).json() as { webhookUrls: string[] }
      expect(midasbuy.webhookUrls).toEqual([`${mirrorUrl}/webhooks/midasbuy/payment_notification`])
      expect(sandbox.output()).not.toContain('order-mirror is ready at')
      sandbox.child.kill('SIGTERM')
      expect(await sandbox.exited).toEqual({ code: 0, signal: null })
    } finally {
      await database.drop()
    }
  })

  it('stops the simulator too, with exit code 1 and the reason, when the mirror cannot start', { timeout: READY_TIMEOUT_MS }, async () => {
    // Something else on the mirror's port, which accepts connections and never answers. The
    // mirror runs on a database of the suite's here: only the embedded one makes local keys, and
    // without them the sandbox must bring its own.
    const connections = new Set<Socket>()
    const taken = createServer((socket) => { connections.add(socket) })
    await new Promise<void>((resolve) => taken.listen(Number(env.PORT), '0.0.0.0', resolve))
    const database = await createTestDatabase({ poolSize: 1 })
    try {
      const sandbox = startSandbox(['--with-mirror'], { DATABASE_URL: database.url })
      expect(await sandbox.exited).toEqual({ code: 1, signal: null })
      expect(sandbox.output()).toContain('the service exited before it was ready')
      expect(sandbox.output()).toMatch(/EADDRINUSE/)
      expect(await portAnswers(Number(env.SIMULATOR_PORT))).toBe(false)
    } finally {
      for (const socket of connections) socket.destroy()
      await new Promise((resolve) => taken.close(resolve))
      await database.drop()
    }
  })
})

describe('npm run simulator on its own', () => {
  it('prints the variables that point a mirror at it, and how to have one started', async () => {
    const sandbox = startSandbox([], { SIMULATOR_WEBHOOK_SECRET: 'sandbox-secret' })
    await sandbox.waitFor(/--with-mirror\n/)
    const simulatorUrl = `http://127.0.0.1:${env.SIMULATOR_PORT}`
    const lines = sandbox.output().split('\n')
    for (const line of [
      '# point a mirror at this simulator:',
      `GAMESO_BASE_URL=${simulatorUrl}`,
      'GAMESO_API_KEY=sim_api_key',
      'GAMESO_WEBHOOK_SECRETS=sandbox-secret',
      `MIDASBUY_BASE_URL=${simulatorUrl}`,
      '# or let the simulator start a mirror wired to it: npm run simulator -- --with-mirror'
    ]) expect(lines).toContain(line)
    sandbox.child.kill('SIGTERM')
    expect(await sandbox.exited).toEqual({ code: 0, signal: null })
  })
})
