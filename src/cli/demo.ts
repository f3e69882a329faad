/**
 * `npm run demo`: an embedded PostgreSQL, the simulator (every upstream of the provider registry)
 * and the service, wired together as child processes. Each provider with a demo places orders
 * its own way while the simulator drops some of its webhooks, and each order is shown as it
 * reaches its final state — by webhook, or healed by the reconciler's polls. Everything started
 * here is stopped on exit and on Ctrl-C.
 *
 *   npm run demo -- [--orders 6] [--drop-rate 0.3] [--seed 2026] [--keep-running]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { z } from 'zod'
import { providers } from '../providers/index.js'
import type { DemoMerchantCall, DemoOrderState, PlacedDemoOrder, ProviderDemo } from '../providers/provider-demo.js'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../db/embedded-postgres.js'
import { entryPoint, waitUntilReady } from './child-service.js'
import { startDemoReceiver } from './demo-receiver.js'
import { freePort } from './free-port.js'

const MERCHANT_KEY = 'demo-merchant-key'
/** The demo receiver's merchant-webhook secret (a merchant chooses its own). */
const DEMO_RECEIVER_SECRET = 'demo-receiver-secret-0123456789'
/** Orders are placed this far apart, so their progress reads as a stream. */
const PLACE_SPACING_MS = 200
const WATCH_INTERVAL_MS = 250
const FINISH_WITHIN_MS = 90_000

/** A provider the demo plays: its module's name and its demo part. */
interface DemoProvider {
  name: string
  displayName: string
  demo: ProviderDemo
}

const demoProviders: DemoProvider[] = providers.flatMap((provider) => {
  const demo: ProviderDemo | undefined = provider.demo
  return demo === undefined ? [] : [{ name: provider.name, displayName: provider.displayName, demo }]
})

/** Lines about orders of different providers line up. */
const WIDEST_NAME = Math.max(...demoProviders.map((provider) => provider.displayName.length))

/** The merchant webhook events of a change into a final canonical status. */
const FINAL_EVENTS = new Set(['order.completed', 'order.failed', 'order.refunded'])

const optionsSchema = z.object({
  orders: z.coerce.number().int().min(1).max(500).default(6),
  'drop-rate': z.coerce.number().min(0).max(1).default(0.3),
  seed: z.coerce.number().int().min(0).max(0xffff_ffff).default(2026),
  'keep-running': z.boolean().default(false),
  help: z.boolean().default(false)
})

type DemoOptions = z.infer<typeof optionsSchema>

const USAGE = `Usage: npm run demo -- [options]
  --orders N        orders per provider (1-500, default 6)
  --drop-rate R     share of webhooks the simulator drops (0-1, default 0.3)
  --seed S          simulator seed: the same seed drops the same webhooks (default 2026)
  --keep-running    keep the stack up after the demo, until Ctrl-C
`

// A few ANSI codes, only when a person is watching: a colour library would be a dependency for four colours.
const tty = process.stdout.isTTY === true
const paint = (code: number) => (text: string) => tty ? `\u001b[${code}m${text}\u001b[0m` : text
const green = paint(32)
const yellow = paint(33)
const red = paint(31)
const dim = paint(2)
const bold = paint(1)

function say (line = ''): void {
  process.stdout.write(`${line}\n`)
}

function parseOptions (): DemoOptions {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string' },
      'drop-rate': { type: 'string' },
      seed: { type: 'string' },
      'keep-running': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  const parsed = optionsSchema.safeParse(values)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  --${issue.path.join('.')}: ${issue.message}`).join('\n')
    process.stderr.write(`${problems}\n\n${USAGE}`)
    process.exit(2)
  }
  return parsed.data
}

interface Child {
  name: string
  process: ChildProcess
  log: WriteStream
  exited: Promise<number | null>
}

/** Everything this run started, stopped in reverse order. */
class Stack {
  readonly children: Child[] = []
  database: EmbeddedPostgresHandle | undefined
  tempDir: string | undefined
  private stopping: Promise<void> | undefined
  private readonly stopHooks: Array<() => Promise<void>> = []

  /** Something else to stop with the rest (first). */
  onStop (hook: () => Promise<void>): void {
    this.stopHooks.push(hook)
  }

  spawn (name: string, relative: string, env: Record<string, string>, logFile: string): Child {
    const { nodeArgs } = entryPoint(relative)
    const child = spawn(process.execPath, nodeArgs, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const log = createWriteStream(logFile)
    child.stdout?.pipe(log, { end: false })
    child.stderr?.pipe(log, { end: false })
    const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => resolve(code)) })
    const entry = { name, process: child, log, exited }
    this.children.push(entry)
    return entry
  }

  stop (): Promise<void> {
    this.stopping ??= this.stopAll()
    return this.stopping
  }

  private async stopAll (): Promise<void> {
    await Promise.allSettled(this.stopHooks.map((hook) => hook()))
    for (const child of [...this.children].reverse()) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM')
      const patience = new AbortController()
      // Aborted once settled, so the timer does not hold the process open for ten more seconds.
      const stopped = await Promise.race([child.exited.then(() => true), delay(10_000, false, { signal: patience.signal }).catch(() => false)])
      patience.abort()
      if (!stopped) child.process.kill('SIGKILL')
      child.log.end()
    }
    await this.database?.stop()
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true })
  }
}

/** Resolves with the simulator's URL once its CLI prints that it listens. */
function simulatorUrl (child: Child): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    child.process.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /simulator listening on (http:\/\/\S+)/.exec(seen)
      if (match?.[1]) resolve(match[1])
    })
    child.exited.then((code) => reject(new Error(`the simulator exited (${String(code)}) before listening`)), reject)
  })
}

async function merchant<T> (baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, json: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': MERCHANT_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, json: await response.json() as T }
}

interface OrderHistory {
  status_changes: Array<{ to_provider_status: string, source: string }>
}

interface Tracked extends PlacedDemoOrder {
  provider: DemoProvider
  placedAt: number
  final?: { state: DemoOrderState, healed: boolean, afterMs: number }
}

async function startStack (stack: Stack, options: DemoOptions): Promise<{ serviceUrl: string, simulator: string, logs: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'order-mirror-demo-'))
  stack.tempDir = dir
  // As root, PostgreSQL runs as the postgres user, which must reach the data directory.
  await chmod(dir, 0o755)

  say(dim(`starting PostgreSQL (embedded), the simulator (${demoProviders.map((provider) => provider.displayName).join(', ')}) and order-mirror …`))
  stack.database = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: await freePort(), log: pino({ level: 'silent' }) })

  const servicePort = await freePort()
  const serviceUrl = `http://127.0.0.1:${servicePort}`
  const upstreamInfo = { serviceUrl, dropRate: options['drop-rate'] }
  const simulatorChild = stack.spawn('simulator', '../simulator/cli', {
    SIMULATOR_PORT: '0',
    SIMULATOR_SEED: String(options.seed),
    SIMULATOR_LOG_LEVEL: 'warn',
    ...Object.assign({}, ...demoProviders.map((provider) => provider.demo.simulatorEnvironment(upstreamInfo)))
  }, path.join(dir, 'simulator.log'))
  const simulator = await simulatorUrl(simulatorChild)

  const upstreams = await Promise.all(demoProviders.map((provider) => provider.demo.serviceEnvironment(simulator)))
  const serviceChild = stack.spawn('service', '../server', {
    HOST: '127.0.0.1',
    PORT: String(servicePort),
    DATABASE_URL: stack.database.url,
    API_KEYS: MERCHANT_KEY,
    ...Object.assign({}, ...upstreams),
    // Quick healing for a short demo: an order silent for 4 s is polled, then every 1-2 s.
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_STALE_AFTER_MS: '4000',
    RECONCILE_MAX_BACKOFF_MS: '2000',
    LOG_LEVEL: 'info'
  }, path.join(dir, 'service.log'))
  await waitUntilReady(serviceUrl, serviceChild.exited)
  return { serviceUrl, simulator, logs: dir }
}

/** Each provider's orders in turn, one of each after another, as they would arrive from many players. */
async function placeOrders (serviceUrl: string, simulator: string, runId: string, count: number): Promise<Tracked[]> {
  const call: DemoMerchantCall = async <T>(method: 'GET' | 'POST', requestPath: string, body?: unknown) => await merchant<T>(serviceUrl, method, requestPath, body)
  const tracked: Tracked[] = []
  for (let index = 0; index < count; index++) {
    for (const provider of demoProviders) {
      const placed = await provider.demo.placeOrder({ simulatorUrl: simulator, merchant: call, runId, index })
      tracked.push({ ...placed, provider, placedAt: Date.now() })
      const withheld = placed.withheld === undefined ? '' : `  ${yellow(`(${placed.withheld})`)}`
      say(`  ${dim('→')} ${provider.displayName.padEnd(WIDEST_NAME)} ${placed.reference}  ${placed.status}  ${dim(placed.basket)}${withheld}`)
      await delay(PLACE_SPACING_MS)
    }
  }
  return tracked
}

/** Follows every order until it is final, printing each one as it gets there. */
async function watch (serviceUrl: string, orders: Tracked[]): Promise<void> {
  const deadline = Date.now() + FINISH_WITHIN_MS
  while (orders.some((order) => !order.final) && Date.now() < deadline) {
    for (const order of orders.filter((candidate) => !candidate.final)) {
      const { demo, name, displayName } = order.provider
      const { status, json } = await merchant<unknown>(serviceUrl, 'GET', demo.orderPath(order.reference))
      if (status !== 200) continue
      const state = demo.describe(json)
      if (!state.final) continue
      const history = await merchant<OrderHistory>(serviceUrl, 'GET', `/v1/orders/${encodeURIComponent(order.reference)}/history?provider=${name}`)
      // Newest first: the change into the final status says who brought it.
      const source = history.json.status_changes.find((change) => change.to_provider_status === state.providerStatus)?.source ?? 'unknown'
      const healed = source === 'poll'
      order.final = { state, healed, afterMs: Date.now() - order.placedAt }
      const missed = order.withheld === undefined ? 'webhook dropped' : 'no webhook sent'
      const how = healed ? yellow(`healed by the reconciler (source ${source}: ${missed})`) : `by webhook (source ${source})`
      const outcome = state.succeeded ? green(state.summary) : red(state.summary)
      say(`  ${state.succeeded ? green('✓') : red('✗')} ${displayName.padEnd(WIDEST_NAME)} ${order.reference}  ${outcome}  ${how}  ${dim(`${(order.final.afterMs / 1000).toFixed(1)} s`)}`)
    }
    await delay(WATCH_INTERVAL_MS)
  }
}

interface WebhookCounts {
  generated: number
  dropped: number
}

async function webhookCounts (simulator: string, provider: string): Promise<WebhookCounts | null> {
  return await fetch(`${simulator}/_control/${provider}/stats`)
    .then(async (response) => (await response.json() as { webhooks: WebhookCounts }).webhooks, () => null)
}

async function summarise (orders: Tracked[], startedAt: number, simulator: string): Promise<void> {
  const finished = orders.filter((order) => order.final)
  say()
  say(bold(`${finished.length} of ${orders.length} orders final in ${((Date.now() - startedAt) / 1000).toFixed(1)} s:`))
  for (const provider of demoProviders) {
    const own = finished.filter((order) => order.provider === provider)
    const succeeded = own.filter((order) => order.final?.state.succeeded).length
    const healed = own.filter((order) => order.final?.healed).length
    const webhooks = await webhookCounts(simulator, provider.name)
    const sent = webhooks === null ? '' : `; the simulator sent ${webhooks.generated - webhooks.dropped} of ${webhooks.generated} webhooks and dropped ${webhooks.dropped}`
    say(`  ${provider.displayName.padEnd(WIDEST_NAME)} ${succeeded} delivered, ${own.length - succeeded} failed; ${own.length - healed} by webhook, ${yellow(`${healed} healed by the reconciler`)}${sent}`)
  }
  const unfinished = orders.filter((order) => !order.final)
  if (unfinished.length > 0) say(red(`  not final in time: ${unfinished.map((order) => order.reference).join(', ')}`))
}

function explore (serviceUrl: string, orders: Tracked[], keepRunning: boolean): void {
  const key = `-H 'X-API-Key: ${MERCHANT_KEY}'`
  say()
  say(keepRunning ? bold('The stack stays up. Explore it:') : bold('To explore, run `npm run demo -- --keep-running` and try:'))
  for (const provider of demoProviders) {
    const own = orders.filter((order) => order.provider === provider)
    const example = own.find((order) => order.final?.healed)?.reference ?? own[0]?.reference ?? 'demo'
    for (const line of provider.demo.exploreCommands(serviceUrl, key, example)) say(`  ${line}`)
  }
  for (const line of [
    `curl -s ${key} '${serviceUrl}/v1/orders/changes?limit=5'`,
    `curl -s ${serviceUrl}/health/ready`,
    `curl -s ${serviceUrl}/metrics | grep ^order_mirror_`,
    `open ${serviceUrl}/docs   # OpenAPI`
  ]) say(`  ${line}`)
}

async function main (): Promise<void> {
  const options = parseOptions()
  if (options.help) {
    say(USAGE)
    return
  }
  const stack = new Stack()
  let interrupted = false
  const interrupt = () => {
    if (interrupted) return
    interrupted = true
    say()
    say(dim('stopping …'))
    stack.stop().then(() => process.exit(130), () => process.exit(1))
  }
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)

  try {
    const { serviceUrl, simulator, logs } = await startStack(stack, options)
    // A child that dies mid-demo would leave the demo waiting for orders that never finish.
    for (const child of stack.children) {
      child.exited.then((code) => {
        if (interrupted) return
        process.stderr.write(red(`\nthe ${child.name} stopped unexpectedly (exit ${String(code)}); its log is in ${logs}\n`))
        interrupted = true
        stack.stop().then(() => process.exit(1), () => process.exit(1))
      }, () => {})
    }
    say(`  order-mirror  ${serviceUrl}   simulator  ${simulator}   logs  ${dim(logs)}`)
    // A merchant's system of its own, registered as a merchant webhook: every status change is pushed to it.
    const receiver = await startDemoReceiver(DEMO_RECEIVER_SECRET, (event) => {
      say(dim(`    → merchant receiver: ${event.event} ${event.reference} (signature ${event.signatureValid ? 'valid' : 'INVALID'})`))
    })
    stack.onStop(() => receiver.close())
    const registered = await merchant<{ id: number }>(serviceUrl, 'POST', '/v1/merchant-webhooks', { url: receiver.url, secret: DEMO_RECEIVER_SECRET, events: ['*'], retry_delay: 1 })
    say(`  merchant receiver  ${receiver.url}  registered as merchant webhook ${String(registered.json.id)} (POST /v1/merchant-webhooks)`)
    say(`  the simulator drops ${Math.round(options['drop-rate'] * 100)} % of each upstream's webhooks; the reconciler polls orders silent for 4 s`)
    say()
    const runId = Date.now().toString(36).slice(-4)
    const startedAt = Date.now()
    say(bold(`Placing ${options.orders} orders per provider:`))
    for (const provider of demoProviders) say(dim(`  ${provider.displayName}: ${provider.demo.ordersHeading}`))
    const orders = await placeOrders(serviceUrl, simulator, runId, options.orders)
    say()
    say(bold('Orders reaching their final state:'))
    await watch(serviceUrl, orders)
    await summarise(orders, startedAt, simulator)
    // The last events may still be on their way: give them a moment before counting.
    const finals = orders.filter((order) => order.final).length
    const patience = Date.now() + 10_000
    while (receiver.received.filter((event) => FINAL_EVENTS.has(event.event)).length < finals && Date.now() < patience) await delay(100)
    say(`  the merchant receiver got ${receiver.received.length} events, one per status change, ${receiver.received.filter((event) => event.signatureValid).length} with a valid signature`)
    explore(serviceUrl, orders, options['keep-running'])
    if (options['keep-running']) {
      say(dim('\nPress Ctrl-C to stop everything.'))
      return
    }
    interrupted = true
    await stack.stop()
    if (orders.some((order) => !order.final)) process.exitCode = 1
  } catch (error) {
    if (interrupted) return
    interrupted = true
    process.stderr.write(red(`demo failed: ${(error as Error).message}\n`))
    await stack.stop()
    process.exitCode = 1
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
