import { createPublicKey } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { signMidasBuyRequest } from '../../src/providers/midasbuy/midasbuy-request-signature.js'
import { createMidasBuySignatureVerifier } from '../../src/providers/midasbuy/midasbuy-signature.js'
import { startSimulatorProcess } from '../helpers/simulator-process.js'

// The simulator's MidasBuy side as the built CLI, as a mirror set up from its printed variables meets it.

const APP_ID = '1450015065'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('MidasBuy simulator as a process (node dist/simulator/cli.js)', () => {
  it('prints the variables a mirror needs for both upstreams, and a mirror signing with them is answered', async () => {
    const proc = await startSimulatorProcess({ SIMULATOR_SEED: '3' })
    cleanups.push(() => proc.stop())
    const deadline = Date.now() + 15_000
    while (!proc.output().includes('MIDASBUY_PLATFORM_PUBLIC_KEY=')) {
      if (Date.now() > deadline) throw new Error(`no mirror variables printed:\n${proc.output()}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const printed = Object.fromEntries([...proc.output().matchAll(/^([A-Z_]+)=(.*)$/gm)].map(([, name, value]) => [name, value]))
    expect(printed).toMatchObject({
      GAMESO_BASE_URL: proc.url,
      GAMESO_API_KEY: 'sim_api_key',
      MIDASBUY_BASE_URL: proc.url,
      MIDASBUY_APP_ID: APP_ID,
      MIDASBUY_CERT_SERIAL_NO: '1',
      MIDASBUY_MERCHANT_PRIVATE_KEY: expect.stringMatching(/^-----BEGIN PRIVATE KEY-----\\n/),
      MIDASBUY_PLATFORM_PUBLIC_KEY: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\\n/)
    })
    const pem = (name: string) => String(printed[name]).replaceAll('\\n', '\n')

    const order = await proc.control<Record<string, unknown>>('POST', '/_control/midasbuy/purchases', {})
    const url = `${printed.MIDASBUY_BASE_URL}/v2/orders`
    const body = JSON.stringify({ id: order.payment_order_id })
    const { headers } = signMidasBuyRequest({ method: 'POST', url, body }, { appId: String(printed.MIDASBUY_APP_ID), serialNo: String(printed.MIDASBUY_CERT_SERIAL_NO), privateKey: pem('MIDASBUY_MERCHANT_PRIVATE_KEY') })
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    const raw = Buffer.from(await response.arrayBuffer())
    expect(response.status).toBe(200)
    expect(JSON.parse(raw.toString('utf8'))).toEqual(order)
    const verify = createMidasBuySignatureVerifier(createPublicKey(pem('MIDASBUY_PLATFORM_PUBLIC_KEY')), 'txgw-signature')
    expect(verify(raw, Object.fromEntries(response.headers))).toMatchObject({ valid: true })
  })
})
