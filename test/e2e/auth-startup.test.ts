import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { startService, type ServiceProcess } from '../helpers/service-process.js'

const KEY = 'e2e-merchant-key-5f1c9a'

describe('merchant API keys in the real process', () => {
  let database: TestDatabase
  let service: ServiceProcess | undefined

  beforeAll(async () => { database = await createTestDatabase({ poolSize: 1 }) })
  afterAll(async () => {
    await service?.stop()
    await database.drop()
  })

  it('warns at start when API_KEYS is unset, and then refuses every merchant request', async () => {
    service = await startService({ DATABASE_URL: database.url, RECONCILE_ENABLED: 'false' })
    const response = await fetch(`${service.url}/v1/orders/ref-1`, { headers: { 'x-api-key': KEY } })
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ status: 401, code: 'UNAUTHORIZED', message: 'Invalid or missing API key' })
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200)
    const warning = service.output().split('\n').filter((line) => line.includes('API_KEYS is not set')).map((line) => JSON.parse(line) as { level: number })
    expect(warning).toHaveLength(1)
    expect(warning[0]?.level).toBe(40)
    await service.stop()
    service = undefined
  })

  it('keeps a configured key out of its logs, even at trace level', async () => {
    service = await startService({ DATABASE_URL: database.url, RECONCILE_ENABLED: 'false', API_KEYS: KEY, LOG_LEVEL: 'trace' })
    expect((await fetch(`${service.url}/v1/orders/ref-1`, { headers: { 'x-api-key': KEY } })).status).toBe(404)
    expect((await fetch(`${service.url}/v1/orders/ref-1`, { headers: { 'x-api-key': `${KEY}-wrong` } })).status).toBe(401)
    await service.stop()
    const output = service.output()
    service = undefined
    expect(output).toContain('incoming request')
    expect(output).not.toContain(KEY)
  })
})
