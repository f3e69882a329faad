import { parseArgs } from 'node:util'
import { providers, type ProviderName } from '../providers/index.js'
import type { SampleWebhookSender } from '../providers/sample-webhook.js'

/** One sender per provider of the registry: `npm run send` itself knows no provider. */
export const SAMPLE_SENDERS = Object.fromEntries(providers.map((provider) => [provider.name, provider.sample])) as Record<ProviderName, SampleWebhookSender>

const PROVIDER_NAMES: readonly ProviderName[] = providers.map((provider) => provider.name)

const BIGINT_MAX = 9_223_372_036_854_775_807n
const MAX_REFERENCE_LENGTH = 255
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

export const SEND_USAGE = `Usage:
  npm run send -- <provider> <event> [--ref R] [--status S] [--to URL] [--key-file FILE]
  npm run send -- replay <inbox id> [--to URL] [--key-file FILE]

Posts a webhook built and signed as the upstream does to the running mirror, then prints the
answer and the order as GET on the merchant API shows it.

${providers.map(({ name, sample }) => `  ${name.padEnd(9)} events: ${sample.events.join(', ')}\n            --status: ${sample.statuses.join(', ')}`).join('\n')}

  replay      sends a stored inbox row again: its exact bytes, with the headers it arrived
              with when they still verify, else re-signed (the output says which)

Options:
  --ref R         the order's reference (${providers.map(({ displayName, sample }) => `${displayName} ${sample.referenceField}`).join(', ')}); default: a new one
  --status S      the provider's status, when the event does not say it
  --to URL        where to post: a mirror's base URL (default http://127.0.0.1:$PORT) or a full webhook URL
  --key-file FILE sign with the ${providers.map(({ displayName, sample }) => `${displayName} ${sample.keyFileHolds}`).join(' or the ')} in FILE
  -h, --help      this text

Keys come from --key-file, else the mirror's configuration (${[...providers.flatMap(({ sample }) => sample.configuredKeyVariable ?? []), 'API_KEYS'].join(', ')}),
else the local development credentials npm start made in .data/credentials.json.
`

/** A command line that cannot be carried out as written; the usage follows the message. */
export class SendUsageError extends Error {}

export interface SendCommand { kind: 'send', sender: SampleWebhookSender, event: string }
export interface ReplayCommand { kind: 'replay', inboxId: string }

export interface SendOptions {
  reference: string | undefined
  status: string | undefined
  to: string | undefined
  keyFile: string | undefined
}

function isProvider (value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value)
}

/** The reference must survive the trip into a URL path and back, which `.`, `..` and control characters do not. */
function checkReference (reference: string): void {
  if (reference.length === 0 || reference.length > MAX_REFERENCE_LENGTH) throw new SendUsageError(`--ref must be 1 to ${MAX_REFERENCE_LENGTH} characters`)
  if (CONTROL_CHARACTERS.test(reference)) throw new SendUsageError('--ref must not contain control characters')
  if (reference === '.' || reference === '..') throw new SendUsageError('--ref cannot be "." or "..": no URL path can name such an order')
}

/** The command line of `npm run send`; null for --help. Throws SendUsageError naming the first problem. */
export function parseSendArguments (argv: readonly string[]): { command: SendCommand | ReplayCommand, options: SendOptions } | null {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        ref: { type: 'string' },
        status: { type: 'string' },
        to: { type: 'string' },
        'key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (error) {
    throw new SendUsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return null
  const [first, second, ...extra] = positionals
  if (extra.length > 0) throw new SendUsageError(`unexpected arguments: ${extra.join(' ')}`)
  const options = { reference: values.ref, status: values.status, to: values.to, keyFile: values['key-file'] }
  if (first === 'replay') {
    if (second === undefined || !/^[1-9]\d{0,18}$/.test(second) || BigInt(second) > BIGINT_MAX) {
      throw new SendUsageError(`replay needs the id of an inbox row, a positive whole number (got ${second === undefined ? 'nothing' : JSON.stringify(second)})`)
    }
    if (values.ref !== undefined || values.status !== undefined) throw new SendUsageError('replay sends the stored bytes as they are: --ref and --status do not apply')
    return { command: { kind: 'replay', inboxId: second }, options }
  }
  if (first === undefined) throw new SendUsageError('name a provider and an event, or replay and an inbox id')
  if (!isProvider(first)) throw new SendUsageError(`unknown provider ${JSON.stringify(first)}: one of ${PROVIDER_NAMES.join(', ')}, or replay`)
  const sender = SAMPLE_SENDERS[first]
  if (second === undefined) throw new SendUsageError(`name the event to send: ${sender.events.join(', ')}`)
  if (values.ref !== undefined) checkReference(values.ref)
  return { command: { kind: 'send', sender, event: second }, options }
}

export interface WebhookTarget {
  url: URL
  /** The mirror to read the order back from; null when the target is not a mirror's webhook route. */
  mirror: URL | null
}

/** Where a delivery goes: `--to` as a mirror's base URL or a full webhook URL, else the local mirror on PORT. */
export function webhookTarget (to: string | undefined, port: number, sender: SampleWebhookSender): WebhookTarget {
  const base = to ?? `http://127.0.0.1:${port}`
  const url = URL.canParse(base) ? new URL(base) : null
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new SendUsageError(`--to must be an http(s) URL (got ${JSON.stringify(base)})`)
  if (url.pathname === '/' || url.pathname === '') url.pathname = sender.webhookPath
  return { url, mirror: url.pathname === sender.webhookPath ? new URL(url.origin) : null }
}
