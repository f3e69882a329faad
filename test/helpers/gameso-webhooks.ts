import { readFileSync } from 'node:fs'
import type { GameSoOrder, GameSoStatus } from '../../src/providers/gameso/gameso-schemas.js'
import { signGameSoBody } from '../../src/providers/gameso/gameso-signature.js'

export const WEBHOOK_SECRET = 'test-webhook-secret'

/** The GameSO docs' own `order.completed` payload, byte for byte. */
export const completedFixture = readFileSync(new URL('../fixtures/gameso/webhook-order-completed.json', import.meta.url))
/** The GameSO docs' own `order.failed` payload, byte for byte. */
export const failedFixture = readFileSync(new URL('../fixtures/gameso/webhook-order-failed.json', import.meta.url))

const template = (JSON.parse(completedFixture.toString('utf8')) as { data: GameSoOrder }).data

const ITEM_STATUS: Record<GameSoStatus, { status: string, completed: number, failed: number }> = {
  pending: { status: 'pending', completed: 0, failed: 0 },
  processing: { status: 'processing', completed: 0, failed: 0 },
  completed: { status: 'completed', completed: 1, failed: 0 },
  failed: { status: 'failed', completed: 0, failed: 1 }
}

/** A plausible GameSO order in the docs' shape: `itemCount` items whose fields follow the status. */
export function gamesoOrder (reference: string, status: GameSoStatus, updatedAt: Date | string, options: { itemCount?: number, overrides?: Partial<GameSoOrder> } = {}): GameSoOrder {
  const item = ITEM_STATUS[status]
  const updated = typeof updatedAt === 'string' ? updatedAt : updatedAt.toISOString()
  return {
    ...template,
    order_number: `ord_${reference}`,
    reference_id: reference,
    status,
    failure_code: status === 'failed' ? 'ITEM_NOT_FOUND' : null,
    failure_message: status === 'failed' ? 'Product SKU not found in provider system' : null,
    updated_at: updated,
    completed_at: status === 'completed' ? updated : null,
    items: Array.from({ length: options.itemCount ?? 1 }, (_unused, index) => ({
      sku: `SKU-${index + 1}`,
      quantity: 1,
      completed_quantity: item.completed,
      failed_quantity: item.failed,
      subtotal_amount: '101.00',
      discount_amount: '0.00',
      total_amount: '101.00',
      status: item.status,
      failure_code: status === 'failed' ? 'ITEM_NOT_FOUND' : null,
      failure_message: status === 'failed' ? 'Product SKU not found in provider system' : null
    })),
    ...options.overrides
  }
}

/** The webhook envelope GameSO posts, as bytes. */
export function webhookBody (data: unknown, options: { event?: string, timestamp?: number } = {}): Buffer {
  // GameSO documents order.completed and order.failed; the mirror accepts any order.* event.
  const status = typeof data === 'object' && data !== null ? (data as { status?: unknown }).status : undefined
  const event = options.event ?? `order.${typeof status === 'string' ? status : 'updated'}`
  return Buffer.from(JSON.stringify({ event, timestamp: options.timestamp ?? Math.floor(Date.now() / 1000), data }))
}

export function signedHeaders (body: Buffer, secret = WEBHOOK_SECRET, header = 'x-gameso-signature'): Record<string, string> {
  return { 'content-type': 'application/json', [header]: signGameSoBody(body, secret) }
}
