import { NotFoundError } from '../../errors.js'
import { errorExample, notFoundExample, signedWebhookNote, unauthorizedExample, type RouteExamples } from '../../docs/route-example-types.js'
import { GAMESO_DOCS_COMPLETED_WEBHOOK, GAMESO_DOCS_FAILED_WEBHOOK } from './gameso-doc-examples.js'
import { gamesoOrderItemResponseSchema, gamesoOrderResponseSchema, type GameSoOrderResponse } from './gameso-presenter.js'
import type { GameSoOrder } from './gameso-schemas.js'

// The examples /docs shows for GameSO's routes, built from GameSO's own example payloads (its
// webhook examples), so "Try it out" starts from something real. A test checks that every route
// has examples, that each one fits its schema, and that the read examples are exactly what the
// mirror answers for the docs' payloads.

/**
 * A GameSO order as GET /v1/orders/{reference_id} answers it: GameSO's own fields, in the key order
 * of the mirror's presenter. A field GameSO left out is null there, except completed_at, which stays
 * absent as GameSO leaves it.
 */
function presented (order: GameSoOrder): GameSoOrderResponse {
  const pick = (keys: readonly string[], source: object): Record<string, unknown> => Object.fromEntries(keys.flatMap((key) => {
    if (key in source) return [[key, (source as Record<string, unknown>)[key] ?? null]]
    return key === 'completed_at' ? [] : [[key, null]]
  }))
  return {
    ...pick(Object.keys(gamesoOrderResponseSchema.shape), order),
    items: order.items.map((item) => pick(Object.keys(gamesoOrderItemResponseSchema.shape), item))
  } as GameSoOrderResponse
}

const completedOrder = presented(GAMESO_DOCS_COMPLETED_WEBHOOK.data)
const failedOrder = presented(GAMESO_DOCS_FAILED_WEBHOOK.data)
const reference = completedOrder.reference_id

/** The docs' completed order as it looked when GameSO accepted it: pending, nothing delivered yet. */
const pendingOrder = presented({
  ...Object.fromEntries(Object.entries(GAMESO_DOCS_COMPLETED_WEBHOOK.data).filter(([key]) => key !== 'completed_at')) as GameSoOrder,
  status: 'pending',
  updated_at: GAMESO_DOCS_COMPLETED_WEBHOOK.data.created_at,
  items: GAMESO_DOCS_COMPLETED_WEBHOOK.data.items.map((item) => ({ ...item, status: 'pending', completed_quantity: 0 }))
})

/** An order the mirror recorded itself (create, track) before GameSO reported on it. */
const placeholderOrder: GameSoOrderResponse = {
  order_number: null,
  reference_id: 'ref_CREATED_ELSEWHERE',
  user_id: null,
  server_id: null,
  character_id: null,
  status: 'pending',
  subtotal_amount: null,
  discount_amount: null,
  total_amount: null,
  source_type: null,
  created_by: null,
  created_at: '2026-02-23T08:07:44.512Z',
  updated_at: '2026-02-23T08:07:44.512Z',
  failure_code: null,
  failure_message: null,
  items: []
}

const gamesoUnavailable = {
  unreachable: { summary: 'GameSO cannot be reached', value: { status: 502, code: 'UPSTREAM_UNAVAILABLE', message: 'GameSO cannot be reached' } }
}
const gamesoNotConfigured = {
  notConfigured: {
    summary: 'No GAMESO_API_KEY on this mirror',
    value: { status: 503, code: 'GAMESO_NOT_CONFIGURED', message: 'GameSO is not configured on this mirror (no GameSO API key), so it cannot reach GameSO' }
  }
}
const gamesoTimeout = { timeout: { summary: 'GameSO did not answer within GAMESO_TIMEOUT_MS', value: { status: 504, code: 'UPSTREAM_TIMEOUT', message: 'GameSO did not answer in time' } } }

const unauthorized = unauthorizedExample
const notFound = notFoundExample

export const gamesoRouteExamples: Record<string, RouteExamples> = {
  'GET /v1/orders/:reference_id': {
    params: { reference_id: reference },
    responses: {
      200: {
        completed: { summary: 'GameSO\'s order.completed example, as the mirror serves it', value: completedOrder },
        failed: { summary: 'GameSO\'s order.failed example: ITEM_NOT_FOUND', value: failedOrder }
      },
      401: unauthorized,
      404: notFound,
      502: gamesoUnavailable
    }
  },
  'GET /v1/orders': {
    querystring: { status: 'completed', limit: 50 },
    responses: {
      200: {
        page: { summary: 'One page, newest first', value: { data: [{ provider: 'gameso', currency: 'THB', ...completedOrder }], next_cursor: null } }
      },
      400: {
        badStatus: {
          summary: 'An unknown status filter',
          value: { status: 400, code: 'VALIDATION_ERROR', message: 'query.status: Invalid option: expected one of "pending"|"processing"|"completed"|"failed"|"refunded"' }
        }
      },
      401: unauthorized
    }
  },
  'GET /v1/orders/:reference_id/history': {
    params: { reference_id: reference },
    querystring: { provider: 'gameso' },
    responses: {
      200: {
        createdThenCompleted: {
          summary: 'Created through the mirror, completed by GameSO\'s webhook',
          value: {
            provider: 'gameso',
            reference_id: reference,
            status_changes: [
              { from: 'pending', to: 'completed', from_provider_status: 'pending', to_provider_status: 'completed', source: 'webhook', changed_at: '2026-02-23T08:08:15.391Z', upstream_updated_at: completedOrder.updated_at, inbox_id: '1' },
              { from: null, to: 'pending', from_provider_status: null, to_provider_status: 'pending', source: 'create', changed_at: '2026-02-23T08:07:44.102Z', upstream_updated_at: null, inbox_id: null }
            ],
            inbox: [
              { id: '1', event_type: 'order.completed', outcome: 'applied', error: null, delivery_count: 1, received_at: '2026-02-23T08:08:15.391Z', last_received_at: '2026-02-23T08:08:15.391Z', processed_at: '2026-02-23T08:08:15.391Z' }
            ]
          }
        }
      },
      401: unauthorized,
      404: notFound
    }
  },
  'POST /v1/orders': {
    body: {
      create: {
        summary: 'The order of GameSO\'s webhook examples, before it was made',
        value: { reference_id: reference, user_id: completedOrder.user_id, items: [{ sku: 'ROMC-Z-1800K', quantity: 1 }] }
      }
    },
    responses: {
      200: { created: { summary: 'GameSO\'s answer, passed on unchanged: the order, pending', value: pendingOrder } },
      400: {
        invalid: { summary: 'Refused before it reaches GameSO', value: { status: 400, code: 'VALIDATION_ERROR', message: 'body.user_id: is required; body.items: must contain at least 1 item' } }
      },
      401: unauthorized,
      409: { duplicate: { summary: 'The reference is taken', value: { status: 409, code: 'DUPLICATE_REFERENCE', message: `reference_id ${reference} is already used by an existing order` } } },
      502: gamesoUnavailable,
      503: gamesoNotConfigured,
      504: gamesoTimeout
    }
  },
  'POST /v1/orders/:reference_id/sync': {
    params: { reference_id: reference },
    responses: {
      200: { synced: { summary: 'GameSO\'s current answer, stored and returned', value: completedOrder } },
      401: unauthorized,
      404: { unknownToGameSo: { summary: 'GameSO has no such order', value: errorExample(new NotFoundError()) } },
      502: gamesoUnavailable,
      503: gamesoNotConfigured,
      504: gamesoTimeout
    }
  },
  'POST /v1/orders/:reference_id/track': {
    params: { reference_id: placeholderOrder.reference_id },
    responses: {
      200: { unchanged: { summary: 'Already followed (or final)', value: { reference_id: reference, tracking: 'unchanged', reconcile_state: 'final', order: completedOrder } } },
      202: {
        started: {
          summary: 'Followed from now on, polled at once',
          value: { reference_id: placeholderOrder.reference_id, tracking: 'started', reconcile_state: 'active', order: placeholderOrder }
        }
      },
      401: unauthorized,
      503: gamesoNotConfigured
    }
  },
  'POST /webhooks/gameso': {
    note: signedWebhookNote('gameso order.completed', 'webhook secret'),
    body: {
      completed: { summary: 'GameSO\'s order.completed example', value: GAMESO_DOCS_COMPLETED_WEBHOOK },
      failed: { summary: 'GameSO\'s order.failed example', value: GAMESO_DOCS_FAILED_WEBHOOK }
    },
    responses: {
      200: {
        applied: { summary: 'Stored and applied', value: { received: true, outcome: 'applied' } },
        duplicate: { summary: 'The same bytes again', value: { received: true, outcome: 'duplicate' } }
      },
      400: {
        invalid: {
          summary: 'Signed, but not an order (kept in the inbox as invalid)',
          value: { status: 400, code: 'VALIDATION_ERROR', message: 'body.data.status: Invalid option: expected one of "pending"|"processing"|"completed"|"failed"' }
        }
      },
      401: {
        unsigned: { summary: 'No signature, as when sent from this page', value: { status: 401, code: 'INVALID_SIGNATURE', message: 'Missing webhook signature' } },
        wrongSignature: { summary: 'Signed with another secret', value: { status: 401, code: 'INVALID_SIGNATURE', message: 'Invalid webhook signature' } }
      },
      503: { notConfigured: { summary: 'No GAMESO_WEBHOOK_SECRETS', value: { status: 503, code: 'WEBHOOK_NOT_CONFIGURED', message: 'No GameSO webhook secret is configured; retry later' } } }
    }
  }
}
