import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'

const ORDERS = 100
const SNAPSHOTS_PER_ORDER = 3
const SENDERS = 16
/** The process is killed once this many webhooks have been acknowledged. */
const KILL_AFTER_ACKS = 120

interface Delivery {
  reference: string
  updatedAt: string
  body: Buffer
  acknowledged: boolean
}

describe('acknowledged webhooks survive SIGKILL of the real process', () => {
  let database: TestDatabase
  let service: ServiceProcess | undefined

  beforeAll(async () => { database = await createTestDatabase({ poolSize: 2 }) })
  afterAll(async () => {
    await service?.stop('SIGKILL')
    await database.drop()
  })

  const env = () => ({ DATABASE_URL: database.url, GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, RECONCILE_ENABLED: 'false', LOG_LEVEL: 'warn' })

  it('keeps every webhook that got a 2xx, and takes the rest again after a restart', async () => {
    const start = Date.parse('2026-09-01T00:00:00.000Z')
    const deliveries: Delivery[] = []
    for (let step = 0; step < SNAPSHOTS_PER_ORDER; step++) {
      const status = (['pending', 'processing', 'completed'] as const)[step]!
      for (let index = 0; index < ORDERS; index++) {
        const reference = `ref-kill-${index}`
        const updatedAt = new Date(start + step * 1000).toISOString()
        deliveries.push({ reference, updatedAt, body: webhookBody(gamesoOrder(reference, status, updatedAt, { itemCount: 2 })), acknowledged: false })
      }
    }

    const first = await startService(env())
    service = first
    let acknowledged = 0
    let next = 0
    const send = async (delivery: Delivery, url: string) => {
      const response = await fetch(`${url}/webhooks/gameso`, { method: 'POST', headers: signedHeaders(delivery.body), body: delivery.body })
      await response.arrayBuffer()
      return response.status
    }
    // Senders pull from one queue; once enough acknowledgements are in, the process dies mid-burst.
    await Promise.all(Array.from({ length: SENDERS }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!
        try {
          const status = await send(delivery, first.url)
          if (status >= 200 && status < 300) {
            delivery.acknowledged = true
            if (++acknowledged === KILL_AFTER_ACKS) first.child.kill('SIGKILL')
          }
        } catch {
          // Connection reset by the kill: not acknowledged, so the sender would retry it.
        }
      }
    }))
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' })
    const acked = deliveries.filter((delivery) => delivery.acknowledged)
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS)
    expect(acked.length).toBeLessThan(deliveries.length)

    service = await startService(env())
    const digests = acked.map((delivery) => createHash('sha256').update(delivery.body).digest())
    const { rows: stored } = await database.db.pool.query<{ body_sha256: Buffer, outcome: string }>(
      'SELECT body_sha256, outcome FROM webhook_inbox WHERE body_sha256 = ANY($1::bytea[])', [digests])
    expect(stored).toHaveLength(acked.length)
    for (const row of stored) expect(['applied', 'stale', 'duplicate']).toContain(row.outcome)

    // Every acknowledged snapshot is reflected in its order (or superseded by a newer one), items included.
    const { rows: orders } = await database.db.pool.query<{ reference: string, upstream_updated_at: Date, items: number }>(`
      SELECT o.reference, o.upstream_updated_at, (SELECT count(*)::int FROM order_items i WHERE i.order_id = o.id) AS items
        FROM orders o WHERE o.provider = 'gameso'`)
    const byReference = new Map(orders.map((order) => [order.reference, order]))
    for (const delivery of acked) {
      const order = byReference.get(delivery.reference)
      expect(order, delivery.reference).toBeDefined()
      expect(order!.upstream_updated_at.getTime()).toBeGreaterThanOrEqual(Date.parse(delivery.updatedAt))
      expect(order!.items).toBe(2)
    }

    // The sender retries what was never acknowledged: all of it is taken now.
    for (const delivery of deliveries.filter((candidate) => !candidate.acknowledged)) {
      expect(await send(delivery, service.url)).toBe(200)
    }
    const { rows: [final] } = await database.db.pool.query<{ completed: number }>(
      "SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed FROM orders WHERE provider = 'gameso'")
    expect(final?.completed).toBe(ORDERS)
    expect(await service.stop()).toEqual({ code: 0, signal: null })
  })
})
