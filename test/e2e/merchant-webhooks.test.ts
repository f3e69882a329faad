import { createHmac } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMirrorStack, STACK_MERCHANT_KEY, type MirrorStack } from '../helpers/mirror-stack.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// Merchant webhooks end to end (SPEC §2.4): the built service and the GameSO simulator as real
// processes, a real HTTP receiver, real crashes. Delays are configured small (retry_delay 1 s,
// attempts time out after 2 s), and every wait is for a condition, never a measured time.

const SECRET = 'e2e-merchant-receiver-secret'
const SIGNATURE_HEADER = 'x-gameso-signature'

interface Envelope { event: string, timestamp: number, data: { reference_id: string, status: string } & Record<string, unknown> }
interface Answered { delivery: ReceivedDelivery, status: number }

const envelope = (delivery: ReceivedDelivery): Envelope => JSON.parse(delivery.raw.toString('utf8')) as Envelope
const webhookId = (delivery: ReceivedDelivery): string => String(delivery.headers['webhook-id'])

function signedBothWays (delivery: ReceivedDelivery): boolean {
  const gameso = `sha256=${createHmac('sha256', SECRET).update(delivery.raw).digest('hex')}`
  if (delivery.headers[SIGNATURE_HEADER] !== gameso) return false
  try {
    new Webhook(`whsec_${Buffer.from(SECRET).toString('base64')}`).verify(delivery.raw, {
      'webhook-id': webhookId(delivery), 'webhook-timestamp': String(delivery.headers['webhook-timestamp']), 'webhook-signature': String(delivery.headers['webhook-signature'])
    })
    return true
  } catch {
    return false
  }
}

async function waitFor (condition: () => Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((resolve) => setTimeout(resolve, 100))
}

/** A receiver that records how it answered each request; `answer` decides (status, or null: never answer). */
async function recordingReceiver (answer: (delivery: ReceivedDelivery, seen: number) => number | null): Promise<WebhookReceiver & { answered: Answered[] }> {
  const answered: Answered[] = []
  const seenById = new Map<string, number>()
  const receiver = await startWebhookReceiver('/merchant', (delivery, res: ServerResponse) => {
    const seen = (seenById.get(webhookId(delivery)) ?? 0) + 1
    seenById.set(webhookId(delivery), seen)
    const status = answer(delivery, seen)
    if (status === null) return
    answered.push({ delivery, status })
    res.writeHead(status).end()
  })
  return Object.assign(receiver, { answered })
}

describe('merchant webhooks between real processes', () => {
  let stack: MirrorStack
  let second: ServiceProcess | undefined

  const serviceEnv = {
    RECONCILE_INTERVAL_MS: '200',
    RECONCILE_STALE_AFTER_MS: '1500',
    RECONCILE_MAX_BACKOFF_MS: '1000',
    GAMESO_MAX_REQUESTS_PER_SECOND: '200',
    // Generous for a loaded machine: an answer that comes after the timeout is sent again.
    MERCHANT_WEBHOOK_TIMEOUT_MS: '2000',
    MERCHANT_WEBHOOK_POLL_INTERVAL_MS: '50',
    MERCHANT_WEBHOOK_CONCURRENCY: '4'
  }

  beforeAll(async () => {
    stack = await startMirrorStack({
      simulator: {
        SIMULATOR_SEED: '20261202',
        SIMULATOR_WEBHOOK_EVENTS: 'processing,completed,failed',
        SIMULATOR_PROCESSING_DELAY_MS: '200',
        SIMULATOR_COMPLETION_DELAY_MS: '200',
        // Half the upstream's webhooks never arrive: those changes reach the mirror by polling.
        SIMULATOR_DROP_RATE: '0.5'
      },
      service: serviceEnv
    })
  })
  afterAll(async () => {
    await second?.stop('SIGKILL')
    await stack?.stop()
  })

  async function call (method: string, path: string, body?: unknown, url = stack.service.url): Promise<{ status: number, json: any }> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-api-key': STACK_MERCHANT_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, json: text === '' ? null : JSON.parse(text) }
  }

  async function register (url: string, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await call('POST', '/v1/merchant-webhooks', { url, secret: SECRET, events: ['*'], retry_delay: 1, ...extra })
    expect(created.status).toBe(201)
    return String(created.json.id)
  }

  async function createOrders (prefix: string, count: number): Promise<string[]> {
    const references = Array.from({ length: count }, (_unused, index) => `${prefix}-${index}`)
    for (const reference of references) {
      const created = await call('POST', '/v1/orders', { reference_id: reference, user_id: 'player-1', items: [{ sku: 'DIAMOND_100', quantity: 1 }] })
      expect(created.status).toBe(200)
    }
    return references
  }

  async function undelivered (endpoint: string): Promise<number> {
    const { rows } = await stack.database.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM merchant_webhook_deliveries WHERE endpoint_id = $1 AND status <> 'delivered'", [endpoint])
    return rows[0]?.n ?? 0
  }

  async function finalInMirror (references: string[]): Promise<boolean> {
    const { rows } = await stack.database.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE reference = ANY($1) AND is_final', [references])
    return rows[0]?.n === references.length
  }

  /** The changes the mirror recorded for these orders, with their deliveries' webhook-ids, in change order. */
  async function changes (endpoint: string, references: string[]) {
    return (await stack.database.db.pool.query<{ reference: string, to_status: string, source: string, webhook_id: string }>(`
      SELECT c.reference, c.to_status, c.source, d.webhook_id::text AS webhook_id
        FROM order_changes c JOIN merchant_webhook_deliveries d ON d.change_id = c.id AND d.endpoint_id = $1
       WHERE c.reference = ANY($2) ORDER BY c.id`, [endpoint, references])).rows
  }

  it('orders completed by webhook and by the reconciler reach a flaky receiver exactly once per status change', async () => {
    // Every third event is first answered 500, every fifth first not at all (the attempt times out).
    let events = 0
    const eventNumber = new Map<string, number>()
    const receiver = await recordingReceiver((delivery, seen) => {
      if (!eventNumber.has(webhookId(delivery))) eventNumber.set(webhookId(delivery), ++events)
      const number = eventNumber.get(webhookId(delivery)) ?? 0
      if (seen === 1 && number % 5 === 0) return null
      if (seen === 1 && number % 3 === 0) return 500
      return 200
    })
    try {
      const endpoint = await register(receiver.url)
      const references = await createOrders('e2e-push', 12)
      await waitFor(() => finalInMirror(references))
      await waitFor(async () => await undelivered(endpoint) === 0)

      const recorded = await changes(endpoint, references)
      // Both paths delivered changes: the upstream's webhooks and the reconciler's polls.
      expect(new Set(recorded.map((change) => change.source))).toEqual(new Set(['create', 'webhook', 'poll']))
      // Once per change: one event (one webhook-id) per change, and each acknowledged. At least once
      // on the wire: an answer that came after the attempt's timeout is sent again, with the same id.
      const acknowledged = receiver.answered.filter((answer, index, all) => answer.status === 200 &&
        all.findIndex((other) => other.status === 200 && webhookId(other.delivery) === webhookId(answer.delivery)) === index)
      expect(acknowledged.map((answer) => webhookId(answer.delivery)).sort()).toEqual(recorded.map((change) => change.webhook_id).sort())
      expect(new Set(recorded.map((change) => change.webhook_id)).size).toBe(recorded.length)
      expect(receiver.received.every(signedBothWays)).toBe(true)
      for (const reference of references) {
        const mine = acknowledged.filter((answer) => envelope(answer.delivery).data.reference_id === reference).map((answer) => envelope(answer.delivery))
        // In the order the changes happened, each event naming the status its data carries.
        expect(mine.map((event) => event.event)).toEqual(recorded.filter((change) => change.reference === reference).map((change) => `order.${change.to_status}`))
        expect(mine.every((event) => event.event === `order.${event.data.status}`)).toBe(true)
        // The last one is the order exactly as the mirror serves it now.
        expect(mine.at(-1)?.data).toEqual((await call('GET', `/v1/orders/${reference}`)).json)
      }
      // The flaky answers were retried: more requests than acknowledgements.
      expect(receiver.received.length).toBeGreaterThan(acknowledged.length)
      expect((await call('DELETE', `/v1/merchant-webhooks/${endpoint}`)).status).toBe(204)
    } finally {
      await receiver.close()
    }
  }, 120_000)

  it('a receiver down past the retries leaves the deliveries exhausted; the retry route then delivers them', async () => {
    const receiver = await recordingReceiver(() => 200)
    try {
      // Nothing listens here: every attempt is refused.
      const down = 'http://127.0.0.1:9/merchant'
      const endpoint = await register(down, { max_retries: 1, events: ['order.completed', 'order.failed'] })
      const references = await createOrders('e2e-down', 2)
      await waitFor(() => finalInMirror(references))
      await waitFor(async () => {
        const listed = await call('GET', `/v1/merchant-webhooks/${endpoint}/deliveries`)
        return listed.json.length === 2 && listed.json.every((row: { status: string }) => row.status === 'exhausted')
      })
      const exhausted = (await call('GET', `/v1/merchant-webhooks/${endpoint}/deliveries`)).json
      expect(exhausted.every((row: { attempts: number, last_error: string }) => row.attempts === 2 && row.last_error.startsWith('network error'))).toBe(true)

      expect((await call('PATCH', `/v1/merchant-webhooks/${endpoint}`, { url: receiver.url })).status).toBe(200)
      for (const row of exhausted) {
        expect((await call('POST', `/v1/merchant-webhooks/${endpoint}/deliveries/${String(row.id)}/retry`)).status).toBe(202)
      }
      await waitFor(async () => await undelivered(endpoint) === 0)
      expect(receiver.answered.map((answer) => webhookId(answer.delivery)).sort()).toEqual(exhausted.map((row: { webhook_id: string }) => row.webhook_id).sort())
      expect((await call('DELETE', `/v1/merchant-webhooks/${endpoint}`)).status).toBe(204)
    } finally {
      await receiver.close()
    }
  }, 120_000)

  it('two instances deliver each event once; SIGKILL of one mid-delivery loses nothing', async () => {
    second = await startService({
      DATABASE_URL: stack.database.url,
      LOG_LEVEL: 'warn',
      API_KEYS: STACK_MERCHANT_KEY,
      RECONCILE_ENABLED: 'false',
      ...serviceEnv,
      // Long enough that the kill finds attempts in flight, short enough that their leases run out soon.
      MERCHANT_WEBHOOK_TIMEOUT_MS: '1000'
    })
    const killed = second
    // Slow answers, so both instances have attempts in flight at once.
    const receiver = await startWebhookReceiver('/merchant', (_delivery, res) => { setTimeout(() => res.writeHead(200).end(), 100) })
    try {
      const endpoint = await register(receiver.url)
      const references = await createOrders('e2e-shared', 10)
      await waitFor(async () => receiver.received.length >= 4)
      await killed.stop('SIGKILL')
      second = undefined
      await waitFor(() => finalInMirror(references))
      await waitFor(async () => await undelivered(endpoint) === 0)

      const recorded = await changes(endpoint, references)
      const ids = receiver.received.map(webhookId)
      expect(new Set(ids)).toEqual(new Set(recorded.map((change) => change.webhook_id)))
      // A repeat only where the killed instance had an attempt in flight (at most its concurrency),
      // and then with the same webhook-id, which is what a receiver deduplicates on.
      expect(ids.length - new Set(ids).size).toBeLessThanOrEqual(Number(serviceEnv.MERCHANT_WEBHOOK_CONCURRENCY))
    } finally {
      await receiver.close()
    }
  }, 120_000)
})
