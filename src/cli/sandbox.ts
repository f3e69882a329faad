import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { ConfigError, loadConfig, parseConfig, type Config } from '../config.js'
import { credentialsInForce } from '../local-dev/local-credentials.js'
import { localUrl } from '../local-dev/start-banner.js'
import { providers } from '../providers/index.js'
import { entryPoint, waitUntilReady } from './child-service.js'

// `npm run simulator -- --with-mirror`: the simulator plays every upstream for a mirror on this
// machine, so a merchant can create an order, watch its webhook arrive and read it, by hand and
// for as long as they like. The mirror is started as `npm start` would start it, pointed at the
// simulator, and the simulator's webhooks at the mirror; Ctrl-C stops both.

/** The running simulator, as far as a mirror pointed at it needs to know. */
export interface SandboxSimulator {
  url: string
  /** The variables that point a mirror at it, for every upstream (as its start lines print them). */
  mirrorEnvironment (): Record<string, string>
}

const STOP_PATIENCE_MS = 15_000
const READY_TIMEOUT_MS = 120_000

export interface SandboxMirror {
  url: string
  /** Settles when the mirror process ends, however it ends. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGTERM, then SIGKILL if it has not stopped in time; resolves once it is gone. */
  stop (): Promise<void>
}

async function control (simulator: SandboxSimulator, name: string, method: 'GET' | 'POST', body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${simulator.url}/_control/${name}/settings`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  })
  if (!response.ok) throw new Error(`the simulator refused the ${name} webhook settings: ${response.status} ${await response.text()}`)
  return await response.json() as Record<string, unknown>
}

/** Every upstream's webhooks to the mirror's route for it (beside any URL already set), signed as the mirror verifies. */
async function pointWebhooksAt (simulator: SandboxSimulator, mirrorUrl: string, config: Config): Promise<void> {
  // The secret is the one the mirror already verifies (configured or local), so `npm run send` keeps
  // working beside it; upstreams that sign with a key pair bring their key in the simulator's mirror variables.
  for (const { name, sample } of providers) {
    const settings = await control(simulator, name, 'GET')
    const urls = Array.isArray(settings.webhookUrls) ? settings.webhookUrls.filter((url): url is string => typeof url === 'string') : []
    const secretOf = sample.sharedSecret
    const secret = secretOf === null || settings.webhookSecretSet === true
      ? undefined
      : secretOf(config) ?? `sandbox_${randomBytes(24).toString('base64url')}`
    await control(simulator, name, 'POST', {
      webhookUrls: [...new Set([...urls, `${mirrorUrl}${sample.webhookPath}`])],
      ...(secret === undefined ? {} : { webhookSecret: secret })
    })
  }
}

/**
 * The simulator's variables the mirror does not already run with: one that changes nothing (the
 * webhook secret the mirror verifies anyway, say) is left out, so the mirror keeps showing it as
 * its local credential rather than as configured.
 */
async function variablesToPass (candidates: Record<string, string>, environment: NodeJS.ProcessEnv, inForce: Config): Promise<Record<string, string>> {
  const same = JSON.stringify(inForce)
  const passed: Record<string, string> = {}
  for (const [name, value] of Object.entries(candidates)) {
    let trial: Config
    try {
      trial = parseConfig({ ...environment, [name]: value })
    } catch (error) {
      // A variable that needs its companions (MIDASBUY_APP_ID without the private key) cannot be
      // tried alone; it changes what the mirror runs with, so it is passed.
      if (!(error instanceof ConfigError)) throw error
      passed[name] = value
      continue
    }
    if (JSON.stringify((await credentialsInForce(trial, { create: false })).config) !== same) passed[name] = value
  }
  return passed
}

/**
 * Starts the mirror as `npm start` would, with this simulator as every upstream and the simulator's
 * webhooks pointed at it. The mirror keeps its own database and credentials: configured ones, else
 * the local ones of the embedded PostgreSQL, else (DATABASE_URL without keys) fresh ones for this
 * run, passed to it here.
 */
export async function startSandboxMirror (simulator: SandboxSimulator, write: (text: string) => void): Promise<SandboxMirror> {
  let configured: Config
  try {
    configured = loadConfig()
  } catch (error) {
    throw error instanceof ConfigError ? new Error(`the mirror cannot start: ${error.message}`) : error
  }
  const { config } = await credentialsInForce(configured, { create: true })
  // Where the simulator, on loopback, reaches the mirror.
  const url = localUrl(config.host, config.port, '127.0.0.1')
  await pointWebhooksAt(simulator, url, config)
  const apiKey = config.apiKeys[0] ?? `sandbox_${randomBytes(24).toString('base64url')}`
  // loadConfig has read .env into the environment: the mirror gets what `npm start` would.
  const environment = process.env
  const upstreams = await variablesToPass(simulator.mirrorEnvironment(), environment, config)

  const { nodeArgs } = entryPoint('../server')
  const child = spawn(process.execPath, nodeArgs, {
    env: {
      // Quiet unless asked otherwise: the mirror's banner and warnings, not a line per request.
      LOG_LEVEL: 'warn',
      ...environment,
      ...upstreams,
      ...(config.apiKeys[0] === apiKey ? {} : { API_KEYS: apiKey })
    },
    // Its own process group: Ctrl-C reaches the sandbox alone, which stops the mirror first.
    detached: true,
    // Through the sandbox rather than the terminal itself: a mirror left behind by a sandbox that
    // was killed outright must not keep writing to a terminal that has gone.
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (chunk: Buffer) => { write(chunk.toString()) })
  child.stderr?.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  // If the sandbox dies without stopping it, the mirror must not outlive it.
  const orphanGuard = () => { child.kill('SIGTERM') }
  process.once('exit', orphanGuard)
  exited.then(() => process.removeListener('exit', orphanGuard), () => {})

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const patience = new AbortController()
    const stopped = await Promise.race([exited.then(() => true), delay(STOP_PATIENCE_MS, false, { signal: patience.signal }).catch(() => false)])
    patience.abort()
    if (!stopped) {
      child.kill('SIGKILL')
      await exited
    }
  }

  try {
    await waitUntilReady(url, exited, READY_TIMEOUT_MS)
  } catch (error) {
    await stop()
    throw error
  }
  const key = `-H 'X-API-Key: ${apiKey}'`
  // A new reference each run: the mirror keeps its orders between runs, the simulator does not.
  const reference = `sandbox-${randomBytes(3).toString('hex')}`
  write([
    `Sandbox ready: order-mirror ${url} uses the simulator ${simulator.url} as ${providers.map((provider) => provider.displayName).join(' and ')}; the simulator's webhooks go to the mirror, signed.`,
    'Create an order, then read it: pending at first, completed or failed about two seconds later by webhook.',
    `  curl -s -X POST ${key} -H 'content-type: application/json' -d '{"reference_id":"${reference}","user_id":"player-1","items":[{"sku":"DIAMOND_100","quantity":2}]}' ${url}/v1/orders`,
    `  curl -s ${key} ${url}/v1/orders/${reference}`,
    `  curl -s ${key} ${url}/v1/orders/${reference}/history`,
    'Ctrl-C stops the mirror and the simulator.',
    ''
  ].join('\n'))
  return { url, exited, stop }
}
