import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { gamesoOrder, signedHeaders as gamesoHeaders, webhookBody } from '../helpers/gameso-webhooks.js'
import { midasbuyKeys, midasbuyOrder, notificationBody, signedHeaders as midasbuyHeaders } from '../helpers/midasbuy-notifications.js'
import { startMirrorStack, STACK_WEBHOOK_SECRET, type MirrorStack } from '../helpers/mirror-stack.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

// Alerts and dashboards name metrics as strings; a renamed metric would leave them silently empty.
// This starts the real service against the simulator, sends real traffic and checks every name
// the alert rules and the dashboard use against what /metrics then serves.

/** What a metric name can start with here: the service's own, prom-client's process metrics, Prometheus's `up`. */
const METRIC_NAME = /\b(?:order_mirror_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up(?=\{))/g

/** Series Prometheus makes itself, never in a service's /metrics. */
const SYNTHESIZED_BY_PROMETHEUS = new Set(['up'])

/**
 * Counters only one event creates a series for, declared (`# TYPE`) from the start: traffic the
 * test cannot send without breaking the service (shedding needs real pressure).
 */
const DECLARED_ONLY = new Set(['order_mirror_requests_shed_total'])

interface Dashboard {
  panels: Array<{ title: string, targets?: Array<{ expr: string }> }>
  templating: { list: Array<{ name: string, query?: string | { query: string } }> }
}

async function readRepoFile (path: string): Promise<string> {
  return readFile(new URL(`../../${path}`, import.meta.url), 'utf8')
}

/** Every PromQL expression of the alert rules and of the dashboard's panels and variables, with where it comes from. */
async function queries (): Promise<Array<{ where: string, expr: string }>> {
  const rules = parse(await readRepoFile('ops/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string, expr: string }> }> }
  const dashboard = JSON.parse(await readRepoFile('ops/grafana/order-mirror.json')) as Dashboard
  return [
    ...rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))),
    ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr }))),
    ...dashboard.templating.list.flatMap((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query
      return query !== undefined && variable.name !== 'datasource' ? [{ where: `variable ${variable.name}`, expr: query }] : []
    })
  ]
}

/** Whether the exposition has a sample of `name` (a histogram's _bucket/_sum/_count are samples of their own). */
function hasSample (exposition: string, name: string): boolean {
  return new RegExp(`^${name}(?:\\{| )`, 'm').test(exposition)
}

describe('metric names used by the alert rules and the dashboard', () => {
  let stack: MirrorStack
  let receiver: WebhookReceiver
  let exposition: string

  beforeAll(async () => {
    stack = await startMirrorStack({
      simulator: { SIMULATOR_AUTO_PROGRESS: 'false' },
      service: { MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey, RECONCILE_INTERVAL_MS: '100' }
    })
    const { url } = stack.service
    // A merchant's webhook endpoint, so the order changes below are delivered and counted.
    receiver = await startWebhookReceiver('/order-events', (_delivery, res) => { res.writeHead(204).end() })
    expect((await stack.merchant('POST', '/v1/merchant-webhooks', { url: receiver.url, secret: 'ops-receiver-secret', events: ['*'] })).status).toBe(201)

    // Webhooks of both providers, one of them refused for its signature.
    const gameso = webhookBody(gamesoOrder('ops-webhook-1', 'processing', '2026-05-01T00:00:05.000Z'))
    expect((await fetch(`${url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(gameso, STACK_WEBHOOK_SECRET), body: gameso })).status).toBe(200)
    expect((await fetch(`${url}/webhooks/gameso`, { method: 'POST', headers: gamesoHeaders(gameso, 'not-the-secret'), body: gameso })).status).toBe(401)
    const midasbuy = notificationBody(midasbuyOrder({ paymentOrderId: 'ops-payment-1', status: 'Paid', updateTime: '2026-05-01T00:00:05Z' }))
    expect((await fetch(`${url}/webhooks/midasbuy/payment_notification`, { method: 'POST', headers: midasbuyHeaders(midasbuy), body: midasbuy })).status).toBe(200)

    // Merchant reads, one refused for its key.
    expect((await stack.merchant('GET', '/v1/orders/ops-webhook-1')).status).toBe(200)
    expect((await fetch(`${url}/v1/orders/ops-webhook-1`)).status).toBe(401)

    // A poll against the simulator: an order GameSO has, followed from now on.
    await stack.simulator.control('POST', '/_control/orders', { orders: [{ reference_id: 'ops-polled-1', status: 'completed' }] })
    expect((await stack.merchant('POST', '/v1/orders/ops-polled-1/track')).status).toBe(202)
    for (;;) {
      const { rows } = await stack.database.db.pool.query<{ reconcile_state: string }>("SELECT reconcile_state FROM orders WHERE reference = 'ops-polled-1'")
      if (rows[0]?.reconcile_state === 'final') break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // Counted once the receiver has answered: scrape until a delivery shows.
    for (;;) {
      const scraped = await fetch(`${url}/metrics`)
      expect(scraped.status).toBe(200)
      exposition = await scraped.text()
      if (/^order_mirror_merchant_webhook_deliveries_total\{[^}]*result="delivered"\} [1-9]/m.test(exposition)) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

  afterAll(async () => {
    await stack?.stop()
    await receiver?.close()
  })

  it('served the traffic it was sent', () => {
    expect(exposition).toMatch(/^order_mirror_webhooks_total\{provider="gameso",outcome="applied"\} [1-9]/m)
    expect(exposition).toMatch(/^order_mirror_webhooks_total\{provider="midasbuy",outcome="applied"\} 1$/m)
    expect(exposition).toMatch(/^order_mirror_reconcile_polls_total\{provider="gameso",result="applied"\} [1-9]/m)
    expect(exposition).toMatch(/^order_mirror_upstream_requests_total\{provider="gameso",operation="get_order",status="200"\} [1-9]/m)
  })

  it('finds, in every rule and dashboard query, metric names it knows how to check', async () => {
    const all = await queries()
    expect(all.length).toBeGreaterThan(20)
    // A query naming no metric of a known prefix would slip through the check below unseen.
    expect(all.filter(({ expr }) => (expr.match(METRIC_NAME) ?? []).length === 0)).toEqual([])
  })

  it('serves every metric the rules and the dashboard use', async () => {
    const missing: string[] = []
    for (const { where, expr } of await queries()) {
      for (const name of new Set(expr.match(METRIC_NAME))) {
        if (SYNTHESIZED_BY_PROMETHEUS.has(name)) continue
        const served = DECLARED_ONLY.has(name) ? exposition.includes(`# TYPE ${name} `) : hasSample(exposition, name)
        if (!served) missing.push(`${name} (${where})`)
      }
    }
    expect(missing).toEqual([])
  })
})
