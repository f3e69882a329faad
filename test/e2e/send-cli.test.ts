import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localCredentialsSchema, type LocalCredentials } from '../../src/local-dev/local-credentials.js'
import { freePort, freePorts } from '../../src/cli/free-port.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'

// `npm run send` against a real mirror started as `npm start` does, on the embedded PostgreSQL in
// a directory of its own: the CLI finds the mirror, its keys and its database from the same
// working directory and environment, as it would in a checkout.

const run = promisify(execFile)
const SEND_ENTRY = fileURLToPath(new URL('../../dist/cli/send.js', import.meta.url))

let workDir: string
let env: Record<string, string>
let service: ServiceProcess
let credentials: LocalCredentials

interface CliResult { code: number, stdout: string, stderr: string }

async function send (...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SEND_ENTRY, ...args], { cwd: workDir, env: { PATH: process.env.PATH ?? '', ...env } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number, stdout?: string, stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

/** The JSON the CLI printed after the line `← <status>` that follows `GET …`. */
function readBack (stdout: string): { status: number, order: Record<string, unknown> } {
  const match = /\nGET \S+\n← (\d{3})\n([\s\S]*)$/.exec(stdout)
  if (!match?.[1] || match[2] === undefined) throw new Error(`no read-back in:\n${stdout}`)
  return { status: Number(match[1]), order: JSON.parse(match[2]) as Record<string, unknown> }
}

async function merchant (pathname: string): Promise<{ status: number, json: unknown }> {
  const response = await fetch(`${service.url}${pathname}`, { headers: { 'x-api-key': credentials.api_key } })
  return { status: response.status, json: await response.json() }
}

async function inboxIdsOf (reference: string): Promise<string[]> {
  const history = await merchant(`/v1/orders/${reference}/history`)
  return (history.json as { inbox: Array<{ id: string }> }).inbox.map((row) => row.id)
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'om-send-cli-'))
  await chmod(workDir, 0o755)
  const [port, embeddedPort] = await freePorts(2)
  env = { PORT: String(port), EMBEDDED_PG_PORT: String(embeddedPort) }
  service = await startService({ ...env, RECONCILE_ENABLED: 'false', LOG_LEVEL: 'warn' }, { cwd: workDir, readyTimeoutMs: 90_000 })
  credentials = localCredentialsSchema.parse(JSON.parse(await readFile(path.join(workDir, '.data', 'credentials.json'), 'utf8')))
}, 120_000)

afterAll(async () => {
  await service?.stop()
  await rm(workDir, { recursive: true, force: true })
})

describe('npm run send against a running mirror', () => {
  it('sends a signed GameSO webhook, prints the answer and the order as the merchant API shows it', async () => {
    const result = await send('gameso', 'order.completed', '--ref', 'send-cli-1')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`POST ${service.url}/webhooks/gameso\n`)
    expect(result.stdout).toContain('HMAC-SHA256 of the body (hex) in x-gameso-signature, with the local webhook secret')
    expect(result.stdout).toContain('← 200 {"received":true,"outcome":"applied"}')
    const shown = readBack(result.stdout)
    expect(shown.status).toBe(200)
    expect(shown.order).toMatchObject({ reference_id: 'send-cli-1', status: 'completed', user_id: 'Fiona.DAmore-Bauch', items: [{ sku: 'ROMC-Z-1800K', completed_quantity: 1 }] })
    expect(await merchant('/v1/orders/send-cli-1')).toEqual({ status: 200, json: shown.order })
  })

  it('moves one order through its statuses, as GameSO would', async () => {
    expect((await send('gameso', 'order.processing', '--ref', 'send-cli-2')).stdout).toContain('"outcome":"applied"')
    const failed = await send('gameso', 'order.failed', '--ref', 'send-cli-2')
    expect(readBack(failed.stdout).order).toMatchObject({ status: 'failed', failure_code: 'ITEM_NOT_FOUND', items: [{ failed_quantity: 1 }] })
    // A final order does not go back: the mirror says so, and the CLI exits 0 since it was answered 200.
    const late = await send('gameso', 'order.pending', '--ref', 'send-cli-2')
    expect(late.stdout).toContain('"outcome":"stale"')
    expect(readBack(late.stdout).order).toMatchObject({ status: 'failed' })
  })

  it('sends a MidasBuy payment notification signed with the local platform key', async () => {
    const paid = await send('midasbuy', 'payment_notification', '--ref', 'SG2026120100001')
    expect(paid.code).toBe(0)
    expect(paid.stdout).toContain('with the local platform private key')
    expect(paid.stdout).toContain('← 200 {"processed":true,"message":"applied"}')
    const finished = await send('midasbuy', 'payment_notification', '--ref', 'SG2026120100001', '--status', 'Finished')
    expect(readBack(finished.stdout)).toMatchObject({ status: 200, order: { payment_order_id: 'SG2026120100001', order_status: 'Finished', app_id: '1450015065' } })

    const history = await merchant('/v1/orders/SG2026120100001/history?provider=midasbuy')
    const [newest] = (history.json as { inbox: Array<{ id: string }> }).inbox
    const replayed = await send('replay', newest?.id ?? '')
    expect(replayed.stdout).toContain('not re-signed: the txgw-timestamp, txgw-nonce and txgw-signature it arrived with still verify')
    expect(replayed.stdout).toContain('← 200 {"processed":true,"message":"duplicate"}')
  })

  it('makes up a reference when none is given, and says which', async () => {
    const result = await send('gameso', 'order.completed')
    const reference = /reference (ref_[A-Z]{11})\n/.exec(result.stdout)?.[1]
    expect(reference).toBeDefined()
    expect(readBack(result.stdout).order).toMatchObject({ reference_id: reference })
  })

  it('replays a stored delivery byte for byte, with the signature it arrived with', async () => {
    await send('gameso', 'order.completed', '--ref', 'send-cli-3')
    const [inboxId] = await inboxIdsOf('send-cli-3')
    const result = await send('replay', inboxId ?? '')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^inbox row ${inboxId}: gameso order.completed, reference send-cli-3, stored as applied at `))
    expect(result.stdout).toContain('not re-signed: the x-gameso-signature it arrived with still verifies')
    // The same bytes: the mirror recognises the delivery it already has.
    expect(result.stdout).toContain('← 200 {"received":true,"outcome":"duplicate"}')
    expect(readBack(result.stdout).order).toMatchObject({ reference_id: 'send-cli-3', status: 'completed' })
    const history = await merchant('/v1/orders/send-cli-3/history')
    expect((history.json as { inbox: Array<{ delivery_count: number }> }).inbox).toEqual([expect.objectContaining({ delivery_count: 2 })])
  })

  it('re-signs a replay when the stored signature matches no secret in force, and says so', async () => {
    await send('gameso', 'order.completed', '--ref', 'send-cli-4')
    const [inboxId] = await inboxIdsOf('send-cli-4')
    // The CLI believes the secret was rotated; the mirror does not know it, so the re-signed copy is refused.
    const rotated = await runWithEnv({ GAMESO_WEBHOOK_SECRETS: 'rotated-secret-the-mirror-does-not-know' }, 'replay', inboxId ?? '')
    expect(rotated.stdout).toContain('re-signed (the signature it arrived with matches no configured secret): HMAC-SHA256 of the body (hex) in x-gameso-signature, with the first of GAMESO_WEBHOOK_SECRETS')
    expect(rotated.stdout).toContain('← 401 {"status":401,"code":"INVALID_SIGNATURE","message":"Invalid webhook signature"}')
    expect(rotated.code).toBe(1)
  })

  it('explains what is wrong instead of sending: a bad command line, a missing row, a key file it cannot read', async () => {
    const usage = await send('gameso', 'order.refunded')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/^send: "refunded" is not a GameSO status: name one with --status/)
    expect(usage.stderr).toContain('Usage:')
    expect(usage.stdout).toBe('')

    const missing = await send('replay', '987654321')
    expect(missing).toMatchObject({ code: 1, stderr: 'send: there is no inbox row 987654321\n' })

    // Which key signs, and what a wrong one says, is each sender's unit test; here the CLI's own file handling.
    expect(await send('gameso', 'order.completed', '--key-file', path.join(workDir, 'absent.txt')))
      .toMatchObject({ code: 1, stderr: `send: --key-file ${path.join(workDir, 'absent.txt')} cannot be read (ENOENT)\n` })
  })

  it('says the mirror is not running when nothing answers', async () => {
    const result = await send('gameso', 'order.completed', '--to', `http://127.0.0.1:${await freePort()}`)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^send: nothing answered at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the mirror running\? \(npm start\)\n$/)
  })
})

async function runWithEnv (extra: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const saved = env
  env = { ...env, ...extra }
  try {
    return await send(...args)
  } finally {
    env = saved
  }
}
