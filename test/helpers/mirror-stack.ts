import { createTestDatabase, type TestDatabase } from './database.js'
import { freePort, startService, type ServiceProcess } from './service-process.js'
import { startSimulatorProcess, type SimulatorProcess } from './simulator-process.js'

export const STACK_MERCHANT_KEY = 'e2e-merchant-key'
export const STACK_WEBHOOK_SECRET = 'e2e-webhook-secret'

export interface MirrorStack {
  database: TestDatabase
  simulator: SimulatorProcess
  service: ServiceProcess
  /** Calls the merchant API with the stack's key; `json` is null when the answer has no JSON body. */
  merchant<T = unknown> (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, json: T }>
  /** Stops what was started, in reverse order, and drops the database. */
  stop (): Promise<void>
}

export interface MirrorStackOptions {
  /** SIMULATOR_* variables, on top of the stack's wiring. */
  simulator?: Record<string, string>
  /** The service's variables, on top of the stack's wiring. */
  service?: Record<string, string>
  /** Wire MidasBuy too: its notifications to the service, the service's OrderQuery polls to the simulator. */
  midasbuy?: boolean
}

/** What the simulated MidasBuy hands out at GET /_control/midasbuy/credentials (it made both key pairs). */
interface MidasBuyCredentials {
  app_id: string
  merchant_cert_serial_no: string | null
  merchant_private_key: string | null
  platform_public_key: string
}

const MIDASBUY_NOTIFICATION_PATH = '/webhooks/midasbuy/payment_notification'

/** The service's MidasBuy variables for the simulator's own keys: notifications verified, OrderQuery signed. */
export async function midasbuyServiceEnvironment (simulator: SimulatorProcess): Promise<Record<string, string>> {
  const credentials = await simulator.control<MidasBuyCredentials>('GET', '/_control/midasbuy/credentials')
  if (credentials.merchant_private_key === null) throw new Error('the simulator did not make the merchant key pair, so the stack cannot sign OrderQuery requests')
  return {
    MIDASBUY_BASE_URL: simulator.url,
    MIDASBUY_APP_ID: credentials.app_id,
    // Any serial is accepted unless the simulator requires one.
    MIDASBUY_CERT_SERIAL_NO: credentials.merchant_cert_serial_no ?? '1',
    MIDASBUY_MERCHANT_PRIVATE_KEY: credentials.merchant_private_key,
    MIDASBUY_PLATFORM_PUBLIC_KEY: credentials.platform_public_key
  }
}

/**
 * The service and the simulator as real processes on a database of their own, wired both ways:
 * the simulator's GameSO webhooks go to the service (signed with a shared secret), the service's
 * GameSO calls go to the simulator; with `midasbuy`, MidasBuy's notifications and OrderQuery the
 * same way. `simulator` takes SIMULATOR_* and `service` the service's variables, on top of these
 * defaults (the reconciler runs).
 */
export async function startMirrorStack (env: MirrorStackOptions = {}): Promise<MirrorStack> {
  const database = await createTestDatabase()
  let simulator: SimulatorProcess | undefined
  let service: ServiceProcess | undefined
  const stop = async () => {
    await service?.stop()
    await simulator?.stop()
    await database.drop()
  }
  try {
    // The service's port is chosen first: the simulator must know where its webhooks go.
    const servicePort = await freePort()
    simulator = await startSimulatorProcess({
      SIMULATOR_WEBHOOK_URL: `http://127.0.0.1:${servicePort}/webhooks/gameso`,
      SIMULATOR_WEBHOOK_SECRET: STACK_WEBHOOK_SECRET,
      ...(env.midasbuy === true ? { SIMULATOR_MIDASBUY_WEBHOOK_URL: `http://127.0.0.1:${servicePort}${MIDASBUY_NOTIFICATION_PATH}` } : {}),
      ...env.simulator
    })
    const midasbuy = env.midasbuy === true ? await midasbuyServiceEnvironment(simulator) : {}
    service = await startService({
      PORT: String(servicePort),
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      API_KEYS: STACK_MERCHANT_KEY,
      GAMESO_BASE_URL: simulator.url,
      GAMESO_API_KEY: simulator.apiKey,
      GAMESO_WEBHOOK_SECRETS: STACK_WEBHOOK_SECRET,
      RECONCILE_ENABLED: 'true',
      ...midasbuy,
      ...env.service
    })
  } catch (error) {
    await stop()
    throw error
  }
  const url = service.url
  return {
    database,
    simulator,
    service,
    async merchant<T> (method: 'GET' | 'POST', path: string, body?: unknown) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { 'x-api-key': STACK_MERCHANT_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      return { status: response.status, json: (text === '' ? null : JSON.parse(text)) as T }
    },
    stop
  }
}
