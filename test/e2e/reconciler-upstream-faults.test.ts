import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody } from '../helpers/gameso-webhooks.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'
import { startSimulatorProcess, type SimulatorProcess } from '../helpers/simulator-process.js'

const MERCHANT_KEY = 'faults-merchant-key'
const WEBHOOK_SECRET = 'faults-webhook-secret'
const RATE_LIMIT = 20
const CONCURRENCY = 4
const RETRY_AFTER_SECONDS = 2
const ORDERS = 60

interface SimulatorStats {
  api: {
    total: number
    byStatus: Record<string, number>
    perSecond: Array<{ second: number, count: number }>
    peakPerSecond: number
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the reconciler against a GameSO that fails and rate-limits for a while', () => {
  let database: TestDatabase
  let simulator: SimulatorProcess
  let service: ServiceProcess
  const references = Array.from({ length: ORDERS }, (_unused, index) => `faulty-${index}`)

  async function stats () {
    return simulator.control<SimulatorStats>('GET', '/_control/stats')
  }

  async function finalCount () {
    const { rows } = await database.db.pool.query<{ final: number }>(
      "SELECT count(*)::int AS final FROM orders WHERE reference LIKE 'faulty-%' AND reconcile_state = 'final'")
    return rows[0]?.final ?? 0
  }

  /** Webhooks and merchant reads for orders of their own, all answered while GameSO misbehaves. */
  async function webhooksAndReads (prefix: string) {
    const answers: number[] = []
    for (let index = 0; index < 10; index++) {
      const reference = `${prefix}-${index}`
      const body = webhookBody(gamesoOrder(reference, 'completed', new Date()))
      const posted = await fetch(`${service.url}/webhooks/gameso`, { method: 'POST', headers: signedHeaders(body, WEBHOOK_SECRET), body })
      answers.push(posted.status)
      const read = await fetch(`${service.url}/v1/orders/${reference}`, { headers: { 'x-api-key': MERCHANT_KEY } })
      answers.push(read.status)
      expect(((await read.json()) as { status: string }).status).toBe('completed')
    }
    return answers
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    simulator = await startSimulatorProcess({ SIMULATOR_SEED: '429', SIMULATOR_AUTO_PROGRESS: 'false' })
    service = await startService({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      API_KEYS: MERCHANT_KEY,
      GAMESO_BASE_URL: simulator.url,
      GAMESO_API_KEY: simulator.apiKey,
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      GAMESO_MAX_REQUESTS_PER_SECOND: String(RATE_LIMIT),
      GAMESO_MAX_CONCURRENCY: String(CONCURRENCY),
      RECONCILE_ENABLED: 'true',
      RECONCILE_INTERVAL_MS: '100',
      RECONCILE_STALE_AFTER_MS: '300',
      RECONCILE_MAX_BACKOFF_MS: '1500'
    })
    await simulator.control('POST', '/_control/orders', {
      orders: references.map((reference) => ({ reference_id: reference, status: 'completed' }))
    })
  })

  afterAll(async () => {
    await service?.stop()
    await simulator?.stop()
    await database?.drop()
  })

  it('honours Retry-After, backs off from 5xx within the rate limit, keeps serving, and converges once GameSO recovers', async () => {
    // Phase 1: every call is rate limited with Retry-After: 2 s.
    await simulator.control('POST', '/_control/faults', { rateLimitedRate: 1, retryAfterSeconds: RETRY_AFTER_SECONDS })
    await simulator.control('POST', '/_control/reset')
    await database.db.pool.query(`
      INSERT INTO orders (provider, reference, status, provider_status, status_rank, last_source, next_poll_at)
      SELECT 'gameso', reference, 'pending', 'pending', 1, 'create', now() FROM unnest($1::text[]) AS reference`, [references])
    const phaseStarted = Date.now()
    const servedWhileLimited = await webhooksAndReads('limited')
    await sleep(Math.max(0, 6000 - (Date.now() - phaseStarted)))
    const limited = await stats()
    const limitedSeconds = (Date.now() - phaseStarted) / 1000
    expect(servedWhileLimited.every((status) => status === 200)).toBe(true)
    expect(limited.api.byStatus).toEqual({ 429: limited.api.total })
    // Honouring Retry-After allows one probe per pause, plus the calls already on their way when
    // the first 429 came back; ignoring it would have sent up to RATE_LIMIT per second.
    expect(limited.api.total).toBeLessThanOrEqual(Math.ceil(limitedSeconds / RETRY_AFTER_SECONDS) + CONCURRENCY)
    expect(limited.api.peakPerSecond).toBeLessThanOrEqual(CONCURRENCY)
    expect(await finalCount()).toBe(0)

    // Phase 2: half the calls fail with 500/502/503, the rest get through.
    await simulator.control('POST', '/_control/faults', { rateLimitedRate: 0, errorRate: 0.5 })
    await simulator.control('POST', '/_control/reset')
    const servedWhileFailing = await webhooksAndReads('failing')
    await sleep(3000)
    const failing = await stats()
    expect(servedWhileFailing.every((status) => status === 200)).toBe(true)
    expect(Object.keys(failing.api.byStatus).some((status) => status.startsWith('5'))).toBe(true)
    expect(failing.api.peakPerSecond).toBeLessThanOrEqual(RATE_LIMIT)

    // Phase 3: GameSO recovers; every order reaches its final state.
    await simulator.control('DELETE', '/_control/faults')
    const deadline = Date.now() + 30_000
    while (await finalCount() < ORDERS && Date.now() < deadline) await sleep(200)
    expect(await finalCount()).toBe(ORDERS)
    const recovered = await stats()
    expect(recovered.api.peakPerSecond).toBeLessThanOrEqual(RATE_LIMIT)

    const ready = await fetch(`${service.url}/health/ready`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { checks: { reconciler: { state: string, due: number } } }).checks.reconciler).toMatchObject({ state: 'running', due: 0 })
    const metrics = await (await fetch(`${service.url}/metrics`)).text()
    expect(metrics).toMatch(/order_mirror_reconcile_polls_total\{provider="gameso",result="rate_limited"\} [1-9]/)
    expect(metrics).toMatch(/order_mirror_reconcile_polls_total\{provider="gameso",result="error"\} [1-9]/)
    expect(metrics).toMatch(/order_mirror_upstream_requests_total\{provider="gameso",operation="get_order",status="429"\} [1-9]/)
  })
})
