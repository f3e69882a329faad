import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../src/simulator/simulator.js'

const KEY = 'k'

describe('simulator over real HTTP', () => {
  let sim: RunningSimulator
  const agent = new Agent({ connections: 100 })

  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY, seed: 5, autoProgress: false })
  })
  afterEach(async () => {
    await request(`${sim.url}/_control/faults`, { method: 'DELETE' }).then((response) => response.body.dump())
    sim.control.resetStats()
  })
  afterAll(async () => {
    await sim.close()
    await agent.close()
  })

  async function getOrder (reference: string, signal?: AbortSignal) {
    const response = await request(`${sim.url}/v1/orders/${reference}`, { headers: { 'x-api-key': KEY }, dispatcher: agent, signal })
    await response.body.dump()
    return { status: response.statusCode, retryAfter: response.headers['retry-after'] }
  }

  it('reports the peak number of concurrent GETs for any single reference', async () => {
    sim.control.setFaults({ slowMs: 400 })
    await Promise.all([...Array.from({ length: 4 }, () => getOrder('hot')), getOrder('cold'), getOrder('cold')])
    await Promise.all(['a', 'b', 'c'].map((reference) => getOrder(reference)))
    const { api } = sim.control.stats()
    expect(api.maxConcurrentGetsPerReference).toBe(4)
    expect(api.maxConcurrentGetsReference).toBe('hot')
    expect(api.getsByReference).toEqual({ hot: 4, cold: 2, a: 1, b: 1, c: 1 })
    expect(api.inFlight).toBe(0)
  })

  it('a client that gives up mid-request no longer counts as in flight', async () => {
    sim.control.setFaults({ slowMs: 5000 })
    const controller = new AbortController()
    const pending = getOrder('gone', controller.signal).catch((error: unknown) => error)
    const deadline = Date.now() + 5000
    while (sim.control.stats().api.inFlight === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    expect(await pending).toBeInstanceOf(Error)
    while (sim.control.stats().api.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sim.control.stats().api.inFlight).toBe(0)
  })

  it('maxRequestsPerSecond holds in any one-second window, answering the rest 429 + Retry-After: 1', async () => {
    // The hard limit reads the monotonic clock: held still, the whole burst lands in one window.
    vi.useFakeTimers({ toFake: ['performance'] })
    try {
      sim.control.setFaults({ maxRequestsPerSecond: 20 })
      const results = await Promise.all(Array.from({ length: 60 }, () => getOrder('limited')))
      const admitted = results.filter((result) => result.status === 404).length
      const limited = results.filter((result) => result.status === 429)
      expect(admitted).toBe(20)
      expect(limited).toHaveLength(40)
      expect(limited.every((result) => result.retryAfter === '1')).toBe(true)
      vi.advanceTimersByTime(1000)
      expect((await getOrder('limited')).status).toBe(404)
    } finally {
      vi.useRealTimers()
    }
  })

  it('serves 2,000 GETs at 50 concurrent clients without an error', async () => {
    sim.control.seedOrders(Array.from({ length: 100 }, (_, i) => ({ reference_id: `load-${i}` })))
    let next = 0
    const statuses: number[] = []
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < 2000) {
        const reference = `load-${next++ % 100}`
        statuses.push((await getOrder(reference)).status)
      }
    }))
    expect(statuses).toHaveLength(2000)
    expect(statuses.every((status) => status === 200)).toBe(true)
    expect(sim.control.stats().api.total).toBe(2000)
  })
})
