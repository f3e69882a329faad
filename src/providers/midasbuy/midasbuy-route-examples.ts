import { errorExample, notFoundExample, signedWebhookNote, unauthorizedExample, type RouteExamples } from '../../docs/route-example-types.js'
import { NotFoundError } from '../../errors.js'
import { midasbuyApi } from './midasbuy-api.js'
import { presentMidasBuyError } from './midasbuy-presenter.js'
import { MIDASBUY_DOCS_NOTIFICATION, MIDASBUY_DOCS_ORDER } from './midasbuy-doc-examples.js'

// The examples /docs shows for MidasBuy's routes, built from MidasBuy's documented order and
// notification envelope.

const unauthorized = unauthorizedExample
const notFound = notFoundExample

const midasbuyUnavailable = {
  unreachable: { summary: 'MidasBuy cannot be reached', value: { status: 502, code: 'UPSTREAM_UNAVAILABLE', message: 'MidasBuy cannot be reached' } }
}
const midasbuyNotConfigured = {
  notConfigured: {
    summary: 'No MidasBuy merchant credentials on this mirror',
    value: {
      status: 503,
      code: 'MIDASBUY_NOT_CONFIGURED',
      message: `MidasBuy is not configured on this mirror (${midasbuyApi.requires}), so it cannot reach MidasBuy`
    }
  }
}
const midasbuyTimeout = {
  timeout: { summary: 'MidasBuy did not answer within MIDASBUY_TIMEOUT_MS', value: { status: 504, code: 'UPSTREAM_TIMEOUT', message: 'MidasBuy did not answer in time' } }
}

/** The error body of the OrderQuery drop-in: MidasBuy's shape, the request id as debug_id. */
function orderQueryError (status: number, message: string) {
  return presentMidasBuyError(status, message, 'req-7f3a')
}

export const midasbuyRouteExamples: Record<string, RouteExamples> = {
  'GET /v1/midasbuy/orders/:payment_order_id': {
    params: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id },
    responses: {
      200: { paid: { summary: 'A payment order in MidasBuy\'s OrderQuery shape', value: MIDASBUY_DOCS_ORDER } },
      401: unauthorized,
      404: notFound
    }
  },
  'POST /v1/midasbuy/orders/:payment_order_id/sync': {
    params: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id },
    responses: {
      200: { synced: { summary: 'MidasBuy\'s current OrderQuery answer, stored and returned', value: MIDASBUY_DOCS_ORDER } },
      401: unauthorized,
      404: { unknownToMidasBuy: { summary: 'MidasBuy has no such order', value: errorExample(new NotFoundError('MidasBuy has no order with payment_order_id SG2024113000900')) } },
      502: midasbuyUnavailable,
      503: midasbuyNotConfigured,
      504: midasbuyTimeout
    }
  },
  'POST /v1/midasbuy/orders/:payment_order_id/track': {
    params: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id },
    responses: {
      200: {
        unchanged: {
          summary: 'Already followed (or final)',
          value: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id, tracking: 'unchanged', reconcile_state: 'active', order: MIDASBUY_DOCS_ORDER }
        }
      },
      202: {
        started: {
          summary: 'Followed from now on, queried at once; no order until MidasBuy has reported it',
          value: { payment_order_id: MIDASBUY_DOCS_ORDER.payment_order_id, tracking: 'started', reconcile_state: 'active', order: null }
        }
      },
      401: unauthorized,
      503: midasbuyNotConfigured
    }
  },
  'POST /midasbuy/v2/orders': {
    body: { byId: { summary: 'OrderQuery\'s body: the payment order id', value: { id: MIDASBUY_DOCS_ORDER.payment_order_id } } },
    responses: {
      200: { paid: { summary: 'MidasBuy\'s OrderQuery answer, from the mirror', value: MIDASBUY_DOCS_ORDER } },
      400: { noId: { summary: 'No id in the body', value: orderQueryError(400, 'body.id: is required') } },
      401: { unauthenticated: { summary: 'No X-API-Key, or one the mirror does not know', value: orderQueryError(401, 'Invalid or missing API key') } },
      404: { notFound: { summary: 'Neither the mirror nor MidasBuy has the order', value: orderQueryError(404, 'No payment order with id SG2024113000999') } }
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
