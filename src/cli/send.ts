/**
 * `npm run send`: acts as an upstream. Builds the webhook GameSO or MidasBuy would post for an
 * order, signs it exactly as that upstream does, posts it to the running mirror (or any URL) and
 * prints the answer and the order as the merchant API then shows it. `replay` sends a stored
 * delivery again, byte for byte.
 */
import { readFile } from 'node:fs/promises'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { embeddedPostgresUrl } from '../db/embedded-postgres.js'
import { credentialsInForce, LocalCredentialsError, type LocalCredentials } from '../local-dev/local-credentials.js'
import { SampleWebhookError, type SampleWebhookSender, type SignedDelivery, type SigningContext } from '../providers/sample-webhook.js'
import { findInboxRow } from '../repositories/inbox-repository.js'
import {
  parseSendArguments, SAMPLE_SENDERS, SEND_USAGE, SendUsageError, webhookTarget, type ReplayCommand, type SendCommand, type SendOptions, type WebhookTarget
} from './send-arguments.js'

const REQUEST_TIMEOUT_MS = 15_000

/** A failure to report in one line, without a stack: the mirror is down, a key is missing, … */
class SendError extends Error {}

function say (line = ''): void {
  process.stdout.write(`${line}\n`)
}

interface Setup {
  /** The configuration with the local credentials standing in for unset variables, as the mirror runs it. */
  config: Config
  local: LocalCredentials | null
}

async function loadSetup (): Promise<Setup> {
  const { config, local } = await credentialsInForce(loadConfig(), { create: false })
  return { config, local }
}

async function readKeyFile (file: string | undefined): Promise<string | null> {
  if (file === undefined) return null
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new SendError(`--key-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

async function request (url: URL, init: RequestInit): Promise<{ status: number, text: string }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    return { status: response.status, text: await response.text() }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name
    throw new SendError(`nothing answered at ${url.origin} (${cause}): is the mirror running? (npm start)`)
  }
}

function pretty (text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** Posts the delivery, prints the answer and the order it left behind; true when the answer was 2xx. */
async function deliver (target: WebhookTarget, body: Buffer, delivery: SignedDelivery, sender: SampleWebhookSender, reference: string | null, config: Config): Promise<boolean> {
  say(`POST ${target.url.href}`)
  say(`  ${body.length} bytes, ${delivery.signing}`)
  const answer = await request(target.url, { method: 'POST', headers: delivery.headers, body })
  say(`← ${answer.status} ${answer.text}`)
  const accepted = answer.status >= 200 && answer.status < 300
  if (target.mirror === null || reference === null) return accepted
  const apiKey = config.apiKeys[0]
  const orderUrl = new URL(sender.orderPath(reference), target.mirror)
  say()
  if (apiKey === undefined) {
    say(`The order is not read back: no API key (set API_KEYS, or start the mirror on the embedded PostgreSQL). It is at ${orderUrl.href}`)
    return accepted
  }
  say(`GET ${orderUrl.href}`)
  const order = await request(orderUrl, { headers: { 'x-api-key': apiKey } })
  say(`← ${order.status}`)
  say(pretty(order.text))
  return accepted
}

async function send ({ sender, event }: SendCommand, options: SendOptions, setup: Setup): Promise<boolean> {
  const now = new Date()
  const reference = options.reference ?? sender.newReference(now)
  let body: Buffer
  try {
    body = sender.build({ event, reference, status: options.status, now })
  } catch (error) {
    throw error instanceof SampleWebhookError ? new SendUsageError(error.message) : error
  }
  const target = webhookTarget(options.to, setup.config.port, sender)
  const delivery = sender.sign(body, { ...setup, keyFile: await readKeyFile(options.keyFile), now })
  say(`${sender.provider} ${event}, reference ${reference}`)
  return deliver(target, body, delivery, sender, reference, setup.config)
}

async function databaseUrlOf (config: Config): Promise<string> {
  if (config.databaseUrl) return config.databaseUrl
  const url = await embeddedPostgresUrl(config.embeddedPostgres)
  if (url === null) throw new SendError(`no embedded PostgreSQL in ${config.embeddedPostgres.dataDir} yet: start the mirror first (npm start)`)
  return url
}

async function replay ({ inboxId }: ReplayCommand, options: SendOptions, setup: Setup): Promise<boolean> {
  // Loaded here: only replay needs the database, and the client is most of the CLI's start-up time.
  const { createDatabase, isDatabaseUnavailable } = await import('../db/database.js')
  const db = createDatabase(await databaseUrlOf(setup.config), { poolSize: 1, applicationName: 'order-mirror-send' })
  let row
  try {
    row = await findInboxRow(db.pool, inboxId)
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error
    const where = setup.config.databaseUrl ? 'DATABASE_URL' : `the embedded PostgreSQL on 127.0.0.1:${setup.config.embeddedPostgres.port}`
    throw new SendError(`${where} does not answer: is the mirror running? (npm start)`)
  } finally {
    await db.close()
  }
  if (row === null) throw new SendError(`there is no inbox row ${inboxId}`)
  const sender = SAMPLE_SENDERS[row.provider]
  const target = webhookTarget(options.to, setup.config.port, sender)
  const context: SigningContext = { ...setup, keyFile: await readKeyFile(options.keyFile), now: new Date() }
  say(`inbox row ${row.id}: ${row.provider} ${row.eventType ?? '(no event)'}, reference ${row.reference ?? '(none)'}, stored as ${row.outcome} at ${row.receivedAt.toISOString()}`)
  const delivery = sender.resend({ body: row.body, headers: row.headers }, context)
  return deliver(target, row.body, delivery, sender, row.reference, setup.config)
}

async function main (): Promise<void> {
  // Piped into `head`, the reader may go away early: that ends the output, it is not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(process.exitCode ?? 0)
  })
  const parsed = parseSendArguments(process.argv.slice(2))
  if (parsed === null) {
    process.stdout.write(SEND_USAGE)
    return
  }
  const { command, options } = parsed
  const setup = await loadSetup()
  const accepted = command.kind === 'replay' ? await replay(command, options, setup) : await send(command, options, setup)
  if (!accepted) process.exitCode = 1
}

main().catch((error: unknown) => {
  if (error instanceof SendUsageError) {
    process.stderr.write(`send: ${error.message}\n\n${SEND_USAGE}`)
    process.exit(2)
  }
  const known = error instanceof SendError || error instanceof SampleWebhookError || error instanceof ConfigError || error instanceof LocalCredentialsError
  process.stderr.write(`send: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`)
  process.exit(1)
})
