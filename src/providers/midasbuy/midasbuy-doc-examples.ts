import type { MidasBuyOrder, MidasBuyWebhookEnvelope } from './midasbuy-schemas.js'

// A MidasBuy payment order and its payment notification, in the fields and formats MidasBuy
// documents (upstream/midasbuy.md §2, §4.2). Taken from the docs: app_id 1450015065, payment order
// SG2024113000900, create_time 2021-11-08T05:45:20Z, shop_region US, payment_channel CREDIT_CARD,
// quantities as digit strings, amounts as decimal strings at the currency's scale. The docs' own
// sample pairs USD with three decimals and uses a product_type outside the enum; this one does
// not. The docs give no event_type or resource_type values: those here are placeholders, which
// the mirror does not rely on (it recognises a payment order by its resource).

export const MIDASBUY_DOCS_ORDER: MidasBuyOrder = {
  app_id: '1450015065',
  create_time: '2021-11-08T05:45:20Z',
  update_time: '2021-11-08T05:46:02Z',
  user_id: '5123456789',
  payment_order_id: 'SG2024113000900',
  server_id: '1001',
  order_status: 'Paid',
  order_items: [{
    product_id: 'UC_60',
    game_product_id: 'uc_60',
    quantity: '1',
    product_type: 'VIRTUAL_CURRENCY',
    price: { currency: 'USD', amount: '0.99' }
  }],
  total_price: { currency: 'USD', amount: '0.99' },
  shop_region: 'US',
  payment_channel: 'CREDIT_CARD'
}

export const MIDASBUY_DOCS_NOTIFICATION: MidasBuyWebhookEnvelope & { resource: MidasBuyOrder } = {
  id: 'WH-4f1c2a0e-9b7d-4c1e-8a53-2d6f0b9e7c41',
  create_time: '2021-11-08T05:46:02Z',
  update_time: '2021-11-08T05:46:02Z',
  event_type: 'payment_notification',
  event_version: 'v1',
  resource_type: 'payment_order',
  resource_version: 'v1',
  summary: 'Payment order SG2024113000900 is Paid',
  resource: MIDASBUY_DOCS_ORDER
}
