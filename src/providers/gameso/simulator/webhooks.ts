import type { WebhookDispatcher } from '../../../simulator/webhook-dispatcher.js'
import { signGameSoBody } from '../gameso-signature.js'
import { toGameSoOrder, type SimOrder } from './order.js'
import type { Settings } from './options.js'

/** GameSO's envelope; `timestamp` is the Unix second of the change, like `updated_at`. */
export function webhookBody (order: SimOrder): Buffer {
  return Buffer.from(JSON.stringify({
    event: `order.${order.status}`,
    timestamp: Math.floor(order.updatedAtMs / 1000),
    data: toGameSoOrder(order)
  }))
}

/**
 * GameSO's webhooks: on each status change listed in `webhookEvents`, `order.<status>` signed
 * once with HMAC-SHA256 over the body, so every retry and copy carries the same bytes and header.
 */
export function gamesoWebhooks (settings: Settings, dispatcher: WebhookDispatcher) {
  return function orderChanged (order: SimOrder): void {
    if (!order.sendWebhooks || !settings.webhookEvents.includes(order.status)) return
    const body = webhookBody(order)
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'GameSO-Simulator/1.0' }
    if (settings.webhookSecret) headers[settings.signatureHeader] = settings.signaturePrefix + signGameSoBody(body, settings.webhookSecret)
    dispatcher.send({ event: `order.${order.status}`, referenceId: order.referenceId, body, headers: () => headers })
  }
}
