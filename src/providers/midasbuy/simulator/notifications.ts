import type { Random } from '../../../simulator/random.js'
import type { WebhookDispatcher } from '../../../simulator/webhook-dispatcher.js'
import { createNonce } from '../midasbuy-request-signature.js'
import { NONCE_HEADER, signMidasBuyNotification, TIMESTAMP_HEADER } from '../midasbuy-signature.js'
import type { SimulatorKeys } from './keys.js'
import type { Settings } from './options.js'
import { datedId, rfc3339Seconds, toOrderQuery, type SimPaymentOrder } from './order.js'

/** Serial of the platform certificate whose key verifies the signature (MidasPay's Txgw-Serial). */
export const SERIAL_HEADER = 'txgw-serial'

/**
 * Headers that sign `body` now with the platform key: a fresh timestamp and nonce each time, as an
 * upstream signs every delivery attempt, over MidasBuy's three lines `timestamp\nnonce\nbody\n`.
 */
export function platformSignedHeaders (body: Buffer, keys: SimulatorKeys, signatureHeader: string, serialNo: string, now: () => number): Record<string, string> {
  const timestamp = String(Math.floor(now() / 1000))
  const nonce = createNonce()
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [NONCE_HEADER]: nonce,
    [signatureHeader]: signMidasBuyNotification(keys.platformPrivateKey(), timestamp, nonce, body),
    [SERIAL_HEADER]: serialNo
  }
}

/** MidasBuy-style accepted: 2xx and `{"processed": true}`; anything else is retried. */
export function acceptsNotificationAnswer (statusCode: number, body: string): boolean {
  if (statusCode < 200 || statusCode >= 300) return false
  try {
    const answer: unknown = JSON.parse(body)
    return typeof answer === 'object' && answer !== null && (answer as { processed?: unknown }).processed === true
  } catch {
    return false
  }
}

export interface PaymentNotifierOptions {
  settings: Settings
  keys: SimulatorKeys
  platformSerialNo: string
  dispatcher: WebhookDispatcher
  random: Random
  now: () => number
}

/**
 * MidasBuy's payment notifications: on each status change listed in `notificationStatuses`, the
 * common webhook envelope around the order as OrderQuery shows it, as one envelope or an array of
 * one (`arrayBodies`). The body is fixed at the change; every attempt is signed afresh.
 */
export function paymentNotifier (options: PaymentNotifierOptions) {
  const { settings, dispatcher, random, now } = options
  return function orderChanged (order: SimPaymentOrder): void {
    if (!order.sendNotifications || !settings.notificationStatuses.includes(order.status)) return
    const at = now()
    const envelope = {
      id: datedId('WEBHOOK', at, random, 13),
      create_time: rfc3339Seconds(at),
      update_time: rfc3339Seconds(at),
      event_type: settings.eventType,
      event_version: settings.eventVersion,
      resource_type: settings.resourceType,
      resource_version: settings.resourceVersion,
      summary: `Payment order ${order.paymentOrderId} is ${order.status}`,
      resource: toOrderQuery(order)
    }
    const asArray = settings.arrayBodies === 'always' || (settings.arrayBodies === 'random' && random.chance(0.5))
    const body = Buffer.from(JSON.stringify(asArray ? [envelope] : envelope))
    dispatcher.send({
      event: order.status,
      referenceId: order.paymentOrderId,
      body,
      headers: () => ({
        'content-type': 'application/json',
        'user-agent': 'MidasBuy-Simulator/1.0',
        ...platformSignedHeaders(body, options.keys, settings.signatureHeader, options.platformSerialNo, now)
      })
    })
  }
}
