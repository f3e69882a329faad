import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { startService } from '../helpers/service-process.js'

describe('graceful shutdown of the real process', () => {
  let database: TestDatabase

  beforeAll(async () => { database = await createTestDatabase({ poolSize: 1 }) })
  afterAll(async () => { await database.drop() })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 within 10 s on ${signal}`, async () => {
      const service = await startService({ DATABASE_URL: database.url, RECONCILE_ENABLED: 'false' })
      const live = await fetch(`${service.url}/health/live`)
      expect(live.status).toBe(200)
      const started = Date.now()
      const result = await service.stop(signal)
      expect(result).toEqual({ code: 0, signal: null })
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(service.output()).toContain('"msg":"stopped"')
    })
  }

  it('finishes a request that is in flight when SIGTERM arrives', async () => {
    const service = await startService({ DATABASE_URL: database.url, RECONCILE_ENABLED: 'false' })
    // A request whose body is still arriving is in flight: the server must wait for it.
    const body = JSON.stringify({ padding: 'x'.repeat(1000) })
    const responded = new Promise<number>((resolve, reject) => {
      const req = request(`${service.url}/health/live`, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.write(body.slice(0, 10))
      setTimeout(() => {
        service.child.kill('SIGTERM')
        setTimeout(() => req.end(body.slice(10)), 300)
      }, 200)
    })
    expect(await responded).toBe(200)
    expect(await service.exited).toEqual({ code: 0, signal: null })
  })
})
