import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody } from '../helpers/gameso-webhooks.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const WEBHOOK_SECRET = 'export-webhook-secret'

// The production path of tracing: the built service, started with OTEL_EXPORTER_OTLP_ENDPOINT,
// exports its spans over OTLP/HTTP to a stand-in collector, and a graceful stop flushes them.
describe('the service with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let database: TestDatabase
  let collector: WebhookReceiver
  let service: ServiceProcess

  beforeAll(async () => {
    database = await createTestDatabase()
    collector = await startWebhookReceiver('', (_delivery, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{}') })
    service = await startService({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'info',
      GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      RECONCILE_ENABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'order-mirror-e2e'
    })
  })

  afterAll(async () => {
    await service?.stop()
    await collector?.close()
    await database?.drop()
  })

  it('sends the spans of a webhook to the collector, named for the service, by the time it has stopped', async () => {
    const body = webhookBody(gamesoOrder('exported-1', 'processing', '2026-05-01T00:00:05.000Z'))
    const answer = await fetch(`${service.url}/webhooks/gameso`, { method: 'POST', headers: signedHeaders(body, WEBHOOK_SECRET), body })
    expect(answer.status).toBe(200)
    expect((await service.stop()).code).toBe(0)

    const exports = collector.received.filter((delivery) => delivery.raw.length > 0)
    expect(exports.length).toBeGreaterThan(0)
    const sent = exports.map((delivery) => delivery.raw.toString('utf8')).join('\n')
    expect(sent).toContain('"order-mirror-e2e"')
    for (const name of ['request', 'webhook.verify', 'order.merge']) expect(sent).toContain(`"name":"${name}"`)
    // The service's own log lines inside the request name the trace they belong to.
    expect(service.output()).toMatch(/"msg":"webhook stored".*"trace_id":"[0-9a-f]{32}"|"trace_id":"[0-9a-f]{32}".*"msg":"webhook stored"/)
  })
})
