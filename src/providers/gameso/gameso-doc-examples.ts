import type { GameSoOrder, GameSoWebhookEnvelope } from './gameso-schemas.js'

// GameSO's own example payloads, from its "Webhook Payload & Signature" page
// (docs.gameso.io/webhook/payload.html; test/fixtures/gameso holds the same payloads byte for byte,
// and a test keeps the two equal). They feed the /docs examples and the send CLI's payloads, so
// both show what GameSO really sends rather than a shape made up here.

interface GameSoDocsWebhook extends GameSoWebhookEnvelope {
  data: GameSoOrder
}

export const GAMESO_DOCS_COMPLETED_WEBHOOK: GameSoDocsWebhook = {
  event: 'order.completed',
  timestamp: 1771834095,
  data: {
    order_number: 'ord_Np3O7rcsqNmBTwD7',
    reference_id: 'ref_RLUFNUHGXXX',
    user_id: 'Fiona.DAmore-Bauch',
    server_id: null,
    character_id: null,
    status: 'completed',
    failure_code: null,
    failure_message: null,
    subtotal_amount: '101.00',
    discount_amount: '0.00',
    total_amount: '101.00',
    created_at: '2026-02-23T08:07:44.000Z',
    updated_at: '2026-02-23T08:08:15.000Z',
    source_type: 'api',
    created_by: { id: 0, name: 'API' },
    completed_at: '2026-02-23T08:08:15.000Z',
    items: [{
      sku: 'ROMC-Z-1800K',
      quantity: 1,
      completed_quantity: 1,
      failed_quantity: 0,
      subtotal_amount: '101.00',
      discount_amount: '0.00',
      total_amount: '101.00',
      status: 'completed',
      failure_code: null,
      failure_message: null
    }]
  }
}

export const GAMESO_DOCS_FAILED_WEBHOOK: GameSoDocsWebhook = {
  event: 'order.failed',
  timestamp: 1771834095,
  data: {
    order_number: 'ord_xyz789',
    reference_id: 'ref_xyz789',
    user_id: 'user_002',
    server_id: null,
    character_id: null,
    status: 'failed',
    failure_code: 'ITEM_NOT_FOUND',
    failure_message: 'Product SKU not found in provider system',
    subtotal_amount: '100.00',
    discount_amount: '0.00',
    total_amount: '100.00',
    created_at: '2026-02-23T08:07:44.000Z',
    updated_at: '2026-02-23T08:08:15.000Z',
    source_type: 'api',
    created_by: { id: 0, name: 'API' },
    items: [{
      sku: 'DIAMOND_999',
      quantity: 1,
      completed_quantity: 0,
      failed_quantity: 1,
      subtotal_amount: '100.00',
      discount_amount: '0.00',
      total_amount: '100.00',
      status: 'failed',
      failure_code: 'ITEM_NOT_FOUND',
      failure_message: 'Product SKU not found in provider system'
    }]
  }
}
