import { readFile } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createDatabase } from '../../src/db/database.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

describe('health and metrics', () => {
  let database: TestDatabase
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase()
    app = await buildApp(testConfig(database.url), { db: database.db })
  })

  afterAll(async () => {
    await app.close()
    await database.drop()
  })

  it('is live', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/live' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('is ready when the database answers and is migrated', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.status).toBe('ready')
    expect(body.checks.database).toMatchObject({ ready: true, migrations: 'applied' })
  })

  it('is not ready, with detail, when a migration is missing', async () => {
    await database.db.pool.query('UPDATE "_prisma_migrations" SET rolled_back_at = now()')
    try {
      const response = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(response.statusCode).toBe(503)
      expect(response.json().checks.database).toMatchObject({ ready: false, migrations: 'pending', pending: expect.arrayContaining(['20261127000000_init']) })
    } finally {
      await database.db.pool.query('UPDATE "_prisma_migrations" SET rolled_back_at = NULL')
    }
  })

  it('serves Prometheus text with process and service metrics', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain/)
    expect(response.body).toContain('process_cpu_user_seconds_total')
    expect(response.body).toContain('# TYPE order_mirror_webhooks_total counter')
    expect(response.body).toMatch(/order_mirror_reconcile_backlog\{provider="gameso",state="due"\} 0/)
    expect(response.body).toMatch(/order_mirror_reconcile_backlog\{provider="midasbuy",state="due"\} 0/)
    // Readiness per check, for alerting, from the same checks /health/ready runs.
    expect(response.body).toMatch(/^order_mirror_ready\{check="database"\} 1$/m)
    expect(response.body).toMatch(/^order_mirror_ready\{check="pressure"\} 1$/m)
    // Webhook counters exist at 0 from the start, so the first invalid delivery is an increase.
    expect(response.body).toMatch(/^order_mirror_webhooks_total\{provider="midasbuy",outcome="invalid"\} 0$/m)
    expect(response.body).toMatch(/^order_mirror_webhooks_total\{provider="gameso",outcome="unavailable"\} 0$/m)
  })

  it('names every provider in the last-webhook detail, null before the first delivery', async () => {
    const body = (await app.inject({ method: 'GET', url: '/health/ready' })).json()
    expect(body.checks.webhooks).toEqual({ ready: true, lastReceivedAt: { gameso: null, midasbuy: null } })
  })

  it('exports the build and the load-shedding thresholds it runs with', async () => {
    const configured = await buildApp(testConfig(database.url, {
      BUILD_COMMIT: 'abc123def456',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '750',
      LOAD_SHED_MAX_HEAP_USED_BYTES: '1500000000',
      LOAD_SHED_MAX_RSS_BYTES: '2000000000'
    }), { db: database.db })
    try {
      const text = (await configured.inject({ method: 'GET', url: '/metrics' })).body
      const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
      expect(text).toContain(`order_mirror_build_info{version="${version}",commit="abc123def456"} 1`)
      expect(text).toMatch(/^order_mirror_load_shed_max_event_loop_delay_seconds 0\.75$/m)
      expect(text).toMatch(/^order_mirror_load_shed_max_heap_used_bytes 1500000000$/m)
      expect(text).toMatch(/^order_mirror_load_shed_max_rss_bytes 2000000000$/m)
    } finally {
      await configured.close()
    }
  })

  it('serves the OpenAPI document at /docs', async () => {
    const json = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(json.statusCode).toBe(200)
    expect(json.json().paths).toHaveProperty('/health/ready')
    const ui = await app.inject({ method: 'GET', url: '/docs' })
    expect([200, 302]).toContain(ui.statusCode)
  })
})

describe('health when the database is down', () => {
  it('answers 503 with the reason and keeps liveness at 200', async () => {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    const db = createDatabase('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 500 })
    const app = await buildApp(testConfig('postgresql://postgres@127.0.0.1:1/none'), { db })
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(ready.statusCode).toBe(503)
      const body = ready.json()
      expect(body.status).toBe('not_ready')
      expect(body.checks.database.ready).toBe(false)
      expect(body.checks.database.error).toMatch(/ECONNREFUSED|connect/)
      const live = await app.inject({ method: 'GET', url: '/health/live' })
      expect(live.statusCode).toBe(200)
      const metrics = await app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.statusCode).toBe(200)
      expect(metrics.body).toMatch(/^order_mirror_ready\{check="database"\} 0$/m)
      expect(metrics.body).toMatch(/^order_mirror_ready\{check="pressure"\} 1$/m)
    } finally {
      await app.close()
      await db.close()
    }
  })
})
