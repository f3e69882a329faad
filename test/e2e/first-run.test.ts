import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { localCredentialsSchema, type LocalCredentials } from '../../src/local-dev/local-credentials.js'
import { createTestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders as gamesoHeaders, webhookBody } from '../helpers/gameso-webhooks.js'
import { midasbuyOrder, notificationBody, signedHeaders as midasbuyHeaders } from '../helpers/midasbuy-notifications.js'
import { freePorts } from '../../src/cli/free-port.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'

// `npm start` in a fresh checkout: no configuration at all, the working directory's ./.data holds
// the embedded PostgreSQL and the local credentials. Each test has a directory of its own.

/** The embedded cluster's first initdb is slow on a loaded two-core machine. */
const FIRST_START_TIMEOUT_MS = 90_000

let workDir: string
let embeddedPort: number
let servicePort: number
let service: ServiceProcess | undefined
const workDirs: string[] = []

async function freshWorkDir (): Promise<void> {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'om-first-run-'))
  workDirs.push(workDir)
  // As root, the embedded PostgreSQL runs as the postgres user, which must reach ./.data.
  await chmod(workDir, 0o755)
  const ports = await freePorts(2)
  servicePort = ports[0] ?? 0
  embeddedPort = ports[1] ?? 0
}

async function startInWorkDir (env: Record<string, string> = {}): Promise<ServiceProcess> {
  service = await startService({ PORT: String(servicePort), EMBEDDED_PG_PORT: String(embeddedPort), RECONCILE_ENABLED: 'false', ...env },
    { cwd: workDir, readyTimeoutMs: FIRST_START_TIMEOUT_MS })
  return service
}

async function stop (): Promise<string> {
  const running = service
  service = undefined
  if (!running) return ''
  expect(await running.stop()).toEqual({ code: 0, signal: null })
  return running.output()
}

function logLines (output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('{'))
}

async function credentialsOnDisk (): Promise<LocalCredentials> {
  return localCredentialsSchema.parse(JSON.parse(await readFile(path.join(workDir, '.data', 'credentials.json'), 'utf8')))
}

beforeEach(freshWorkDir)
// SIGTERM even after a failure: it also stops the embedded PostgreSQL, which a SIGKILL would leave running.
afterEach(async () => { await service?.stop('SIGTERM') })
afterAll(async () => {
  for (const dir of workDirs) await rm(dir, { recursive: true, force: true })
})

describe('npm start with no configuration, on the embedded PostgreSQL', () => {
  it('makes local credentials once, prints them in the banner only, and works with them at once', { timeout: FIRST_START_TIMEOUT_MS * 2 }, async () => {
    const running = await startInWorkDir()
    const file = path.join(workDir, '.data', 'credentials.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const credentials = await credentialsOnDisk()

    // The merchant API takes the local key: an unknown order is a 404, not a 401.
    expect((await fetch(`${running.url}/v1/orders/first-run-1`, { headers: { 'x-api-key': credentials.api_key } })).status).toBe(404)
    expect((await fetch(`${running.url}/v1/orders/first-run-1`, { headers: { 'x-api-key': 'guess' } })).status).toBe(401)

    // Webhooks signed with the local secret and key are applied, and readable with the local API key.
    const gameso = webhookBody(gamesoOrder('first-run-1', 'completed', new Date()))
    const gamesoAnswer = await fetch(`${running.url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(gameso, credentials.gameso_webhook_secret), body: gameso })
    expect(await gamesoAnswer.json()).toEqual({ received: true, outcome: 'applied' })
    const midasbuy = notificationBody(midasbuyOrder({ paymentOrderId: 'SG-first-run-1', status: 'Paid', updateTime: new Date().toISOString() }))
    const midasbuyAnswer = await fetch(`${running.url}/webhooks/midasbuy/payment_notification`, {
      method: 'POST', headers: midasbuyHeaders(midasbuy, { privateKey: credentials.midasbuy_platform_private_key }), body: midasbuy
    })
    expect(await midasbuyAnswer.json()).toEqual({ processed: true, message: 'applied' })
    const read = await fetch(`${running.url}/v1/orders/first-run-1`, { headers: { 'x-api-key': credentials.api_key } })
    expect(await read.json()).toMatchObject({ reference_id: 'first-run-1', status: 'completed' })

    const output = await stop()
    const banner = output.slice(output.indexOf('order-mirror is ready at'))
    expect(banner).toContain(`order-mirror is ready at ${running.url} (embedded PostgreSQL)`)
    expect(banner).toContain('Local development credentials for this machine only, kept in .data/credentials.json:')
    expect(banner).toContain(credentials.api_key)
    expect(banner).toContain(credentials.gameso_webhook_secret)
    expect(banner).toContain(`curl -s -H 'X-API-Key: ${credentials.api_key}' ${running.url}/v1/orders/my-first-order`)
    // Printed once, and never through the log.
    expect(output.split(credentials.api_key).length - 1).toBe(2)
    const secrets = [credentials.api_key, credentials.gameso_webhook_secret, credentials.midasbuy_platform_private_key.split('\n')[1] ?? '']
    for (const line of logLines(output)) {
      for (const secret of secrets) expect(line).not.toContain(secret)
    }
    const created = logLines(output).map((line) => JSON.parse(line) as { msg: string, standingInFor?: string[] })
      .find((record) => record.msg === 'local development credentials created')
    expect(created?.standingInFor).toEqual(['API_KEYS', 'GAMESO_WEBHOOK_SECRETS', 'MIDASBUY_PLATFORM_PUBLIC_KEY'])
    expect(output).not.toContain('API_KEYS is not set')
    expect(output).not.toContain('GAMESO_WEBHOOK_SECRETS is not set')
  })

  it('reuses them on the next start, with the data it had, and lets each configured variable win on its own', { timeout: FIRST_START_TIMEOUT_MS * 2 }, async () => {
    const first = await startInWorkDir()
    const local = await credentialsOnDisk()
    const body = webhookBody(gamesoOrder('first-run-kept', 'completed', new Date()))
    expect((await fetch(`${first.url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(body, local.gameso_webhook_secret), body })).status).toBe(200)
    await stop()

    // The next start has API_KEYS configured: that key, not the local one, opens the merchant API;
    // the webhook secret nobody configured is still the local one.
    const running = await startInWorkDir({ API_KEYS: 'first-run-configured-key' })
    expect((await fetch(`${running.url}/v1/orders/first-run-kept`, { headers: { 'x-api-key': local.api_key } })).status).toBe(401)
    expect((await fetch(`${running.url}/v1/orders/first-run-kept`, { headers: { 'x-api-key': 'first-run-configured-key' } })).status).toBe(200)
    const later = webhookBody(gamesoOrder('first-run-2', 'failed', new Date()))
    expect((await fetch(`${running.url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(later, local.gameso_webhook_secret), body: later })).status).toBe(200)
    const output = await stop()
    expect(await credentialsOnDisk()).toEqual(local)
    const reused = logLines(output).map((line) => JSON.parse(line) as { msg: string, standingInFor?: string[] })
      .find((record) => record.msg === 'local development credentials reused')
    expect(reused?.standingInFor).toEqual(['GAMESO_WEBHOOK_SECRETS', 'MIDASBUY_PLATFORM_PUBLIC_KEY'])
    expect(output).toMatch(/X-API-Key +configured \(API_KEYS\)/)
    expect(output).toContain(local.gameso_webhook_secret)
    expect(output).not.toContain(local.api_key)
    expect(output).not.toContain('first-run-configured-key')
  })
})

describe('npm start with DATABASE_URL', () => {
  it('makes no credentials and behaves as before: no banner, every merchant request refused with a warning', async () => {
    const database = await createTestDatabase({ poolSize: 1 })
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'om-first-run-external-'))
    try {
      const running = await startService({ DATABASE_URL: database.url, RECONCILE_ENABLED: 'false' }, { cwd: elsewhere })
      service = running
      expect((await fetch(`${running.url}/v1/orders/x`, { headers: { 'x-api-key': 'anything' } })).status).toBe(401)
      const body = webhookBody(gamesoOrder('external-1', 'completed', new Date()))
      expect((await fetch(`${running.url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(body, 'anything'), body })).status).toBe(503)
      const output = await stop()
      expect(existsSync(path.join(elsewhere, '.data'))).toBe(false)
      expect(output).not.toContain('order-mirror is ready at')
      expect(output).not.toContain('local development credentials')
      expect(output).toContain('API_KEYS is not set')
      expect(output).toContain('GAMESO_WEBHOOK_SECRETS is not set')
    } finally {
      await rm(elsewhere, { recursive: true, force: true })
      await database.drop()
    }
  })
})
