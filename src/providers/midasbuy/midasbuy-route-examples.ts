import { notFoundExample, signedWebhookNote, unauthorizedExample, type RouteExamples } from '../../docs/route-example-types.js'
import { MIDASBUY_DOCS_NOTIFICATION, MIDASBUY_DOCS_ORDER } from './midasbuy-doc-examples.js'

// The examples /docs shows for MidasBuy's routes, built from MidasBuy's documented order and
// notification envelope.

const unauthorized = unauthorizedExample
const notFound = notFoundExample

export const midasbuyRouteExamples: Record<string, RouteExamples> = {
  'GET /v1/midasbuy/orders/:payment_order_id': {
    params: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id },
    responses: {
      200: { paid: { summary: 'A payment order in MidasBuy\'s OrderQuery shape', value: MIDASBUY_DOCS_ORDER } },
      401: unauthorized,
      404: notFound
    }
  },
  'POST /webhooks/midasbuy/payment_notification': {
    note: signedWebhookNote('midasbuy payment_notification', 'platform key'),
    body: { paid: { summary: 'A payment notification: the documented envelope around the order', value: MIDASBUY_DOCS_NOTIFICATION } },
    responses: {
      200: { applied: { summary: 'Stored and applied', value: { processed: true, message: 'applied' } } },
      401: {
        unsigned: { summary: 'No signature, as when sent from this page', value: { processed: false, message: 'Missing txgw-signature header' } },
        wrongSignature: { summary: 'Signed with another key', value: { processed: false, message: 'Invalid txgw-signature header' } }
      },
      500: { notConfigured: { summary: 'No MIDASBUY_PLATFORM_PUBLIC_KEY: MidasBuy retries', value: { processed: false, message: 'No MidasBuy platform public key is configured; retry later' } } }
    }
  }
}
