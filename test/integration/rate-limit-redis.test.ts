import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { freePort } from '../../src/cli/free-port.js'
import { testConfig } from '../helpers/config.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

// The merchant rate limit across replicas: with REDIS_URL the instances share one count (the real
// Redis on 127.0.0.1:6379, under a key prefix of this run's own), without it each counts alone,
// and a Redis that goes away mid-test (a redis-server this test starts and kills) degrades to
// per-instance counting — with a warning and a metric, never a 500 — until it is back.

const API_KEY = 'merchant-key'
const LIMIT = 5
const SHARED_REDIS = 'redis://127.0.0.1:6379'

async function eventually<T> (attempt: () => Promise<T | undefined>, tries = 100): Promise<T> {
  for (let round = 0; round < tries; round++) {
    const result = await attempt()
    if (result !== undefined) return result
    await sleep(100)
  }
  throw new Error('condition not reached')
}

function startRedisServer (port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
}

async function waitForRedis (url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  try {
    await eventually(async () => (await probe.ping().catch(() => undefined)) === 'PONG' ? true : undefined)
  } finally {
    probe.disconnect()
  }
}

describe('merchant rate limit store', () => {
  let database: TestDatabase
  const apps: FastifyInstance[] = []
  const prefixes: string[] = []

  beforeAll(async () => { database = await createTestDatabase() })

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
  })

  afterAll(async () => {
    const redis = new Redis(SHARED_REDIS)
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
    }
    redis.disconnect()
    await database.drop()
  })

  function uniquePrefix (): string {
    const prefix = `order-mirror-test:${Date.now().toString(36)}${randomBytes(3).toString('hex')}:`
    prefixes.push(prefix)
    return prefix
  }

  async function instance (overrides: Record<string, string>): Promise<FastifyInstance> {
    const app = await buildApp(testConfig(database.url, { API_KEYS: API_KEY, RATE_LIMIT_MAX: String(LIMIT), ...overrides }), { db: database.db })
    await app.ready()
    apps.push(app)
    return app
  }

  async function request (app: FastifyInstance): Promise<number> {
    const response = await app.inject({ method: 'GET', url: '/v1/orders?limit=1', headers: { 'x-api-key': API_KEY } })
    if (response.statusCode === 429) expect(response.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    return response.statusCode
  }

  async function metric (app: FastifyInstance, name: string): Promise<number> {
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body
    const line = body.split('\n').find((candidate) => candidate.startsWith(`${name} `))
    return line === undefined ? Number.NaN : Number(line.split(' ')[1])
  }

  it('with REDIS_URL two instances allow the limit between them, not twice it', async () => {
    const prefix = uniquePrefix()
    const [a, b] = await Promise.all([instance({ REDIS_URL: SHARED_REDIS, RATE_LIMIT_REDIS_PREFIX: prefix }), instance({ REDIS_URL: SHARED_REDIS, RATE_LIMIT_REDIS_PREFIX: prefix })])
    const statuses: number[] = []
    for (let index = 0; index < 2 * LIMIT; index++) statuses.push(await request(index % 2 === 0 ? a as FastifyInstance : b as FastifyInstance))
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT)
    expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT)
    expect(await metric(a as FastifyInstance, 'order_mirror_rate_limit_store_fallback_total')).toBe(0)
  })

  it('without REDIS_URL each instance counts on its own', async () => {
    const [a, b] = await Promise.all([instance({}), instance({})])
    const statuses: number[] = []
    for (let index = 0; index < 2 * LIMIT; index++) statuses.push(await request(index % 2 === 0 ? a as FastifyInstance : b as FastifyInstance))
    expect(statuses.every((status) => status === 200)).toBe(true)
    expect(await request(a as FastifyInstance)).toBe(429)
  })

  it('a Redis that goes away degrades to per-instance limits with a metric, and the shared count returns with it', async () => {
    const port = await freePort()
    const url = `redis://127.0.0.1:${port}`
    let server = startRedisServer(port)
    try {
      await waitForRedis(url)
      const prefix = uniquePrefix()
      const app = await instance({ REDIS_URL: url, RATE_LIMIT_REDIS_PREFIX: prefix })
      const inspector = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 })
      inspector.on('error', () => {})

      expect(await request(app)).toBe(200)
      expect(await inspector.keys(`${prefix}*`)).toHaveLength(1)
      inspector.disconnect()

      server.kill('SIGKILL')
      await once(server, 'exit')

      // Limited per instance now: the limit again from a fresh local count, then 429 — never a 500.
      const during: number[] = []
      for (let index = 0; index <= LIMIT; index++) during.push(await request(app))
      expect(during).toEqual([...Array.from({ length: LIMIT }, () => 200), 429])
      expect(await metric(app, 'order_mirror_rate_limit_store_fallback_total')).toBeGreaterThanOrEqual(LIMIT + 1)
      expect(await metric(app, 'order_mirror_rate_limit_store_degraded')).toBe(1)

      server = startRedisServer(port)
      await waitForRedis(url)
      // The empty Redis that came back counts from one again: the first 200 after the outage's 429s.
      await eventually(async () => (await request(app)) === 200 ? true : undefined)
      expect(await metric(app, 'order_mirror_rate_limit_store_degraded')).toBe(0)
      const back = new Redis(url)
      expect(await back.keys(`${prefix}*`)).toHaveLength(1)
      back.disconnect()
    } finally {
      server.kill('SIGKILL')
    }
  })
})
