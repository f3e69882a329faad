import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, signedHeaders, webhookBody, WEBHOOK_SECRET } from '../helpers/gameso-webhooks.js'
import { midasbuyKeys, midasbuyOrder, notificationBody, signedHeaders as midasbuySignedHeaders } from '../helpers/midasbuy-notifications.js'

const API_KEY = 'merchant-key'

/** Waits for a condition the app reaches on its own timer; fails after `attempts` checks. */
async function eventually (condition: () => boolean, attempts = 200): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (condition()) return
    await sleep(10)
  }
  throw new Error('condition not reached')
}

describe('load shedding', () => {
  let database: TestDatabase
  let pressed: FastifyInstance
  let relaxed: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    const common = { API_KEYS: API_KEY, GAMESO_WEBHOOK_SECRETS: WEBHOOK_SECRET, MIDASBUY_PLATFORM_PUBLIC_KEY: midasbuyKeys.publicKey, LOAD_SHED_SAMPLE_INTERVAL_MS: '20' }
    // A heap threshold of one byte: under pressure from the first sample on, whatever the machine is doing.
    pressed = await buildApp(testConfig(database.url, { ...common, LOAD_SHED_MAX_HEAP_USED_BYTES: '1' }), { db: database.db })
    relaxed = await buildApp(testConfig(database.url, common), { db: database.db })
    await Promise.all([pressed.ready(), relaxed.ready()])
    await eventually(() => pressed.isUnderPressure())
  })

  afterAll(async () => {
    await pressed.close()
    await relaxed.close()
    await database.drop()
  })

  it('the merchant API answers 503 OVERLOADED with Retry-After', async () => {
    const response = await pressed.inject({ method: 'GET', url: '/v1/orders', headers: { 'x-api-key': API_KEY } })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ status: 503, code: 'OVERLOADED', message: 'The service is overloaded; retry later' })
    expect(response.headers['retry-after']).toBe('10')
  })

  it('a GameSO webhook is refused with 503 before anything is stored, so GameSO retries it', async () => {
    const body = webhookBody(gamesoOrder('shed-1', 'completed', new Date()))
    const response = await pressed.inject({ method: 'POST', url: '/webhooks/gameso', headers: signedHeaders(body), payload: body })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toMatchObject({ status: 503, code: 'OVERLOADED' })
    const { rows } = await database.db.pool.query('SELECT count(*)::int AS count FROM webhook_inbox')
    expect(rows[0].count).toBe(0)
  })

  it('a MidasBuy notification gets MidasBuy\'s retryable failure, in its shape', async () => {
    const body = notificationBody(midasbuyOrder({ paymentOrderId: 'MB-shed', status: 'Paid', updateTime: new Date().toISOString() }))
    const response = await pressed.inject({ method: 'POST', url: '/webhooks/midasbuy/payment_notification', headers: midasbuySignedHeaders(body), payload: body })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({ processed: false, message: 'The service is overloaded; retry later' })
  })

  it('health and metrics keep answering; readiness reports the pressure and fails', async () => {
    // One request shed here, so the counter below counts this test's own.
    expect((await pressed.inject({ method: 'GET', url: '/v1/orders', headers: { 'x-api-key': API_KEY } })).statusCode).toBe(503)
    expect((await pressed.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
    const ready = await pressed.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json().checks.pressure).toMatchObject({ ready: false, underPressure: true, limits: { maxHeapUsedBytes: 1 } })
    const metrics = await pressed.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.statusCode).toBe(200)
    expect(metrics.body).toMatch(/order_mirror_requests_shed_total\{reason="heapUsedBytes"\} [1-9]/)
  })

  it('without pressure the same requests go through and readiness says so', async () => {
    const response = await relaxed.inject({ method: 'GET', url: '/v1/orders', headers: { 'x-api-key': API_KEY } })
    expect(response.statusCode).toBe(200)
    const ready = await relaxed.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.json().checks.pressure).toMatchObject({ ready: true, underPressure: false })
  })
})
