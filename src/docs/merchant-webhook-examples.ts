import type { RouteExamples } from './route-example-types.js'

// /docs examples of the merchant-webhook routes (SPEC §2.4): an endpoint as GameSO's
// merchant-webhook API shows it, and its deliveries.

const endpoint = {
  id: 1,
  url: 'https://shop.example/webhooks/orders',
  events: ['order.completed', 'order.failed'],
  description: 'main shop',
  secret_hint: 'whsec-sh...',
  status: 'active',
  max_retries: 8,
  retry_delay: 60,
  created_at: '2026-02-23T08:00:00.000Z',
  updated_at: '2026-02-23T08:00:00.000Z'
}

const delivery = {
  id: 42,
  webhook_id: '0b6f4f0e-8c1e-4d6b-9d55-0c8f8c3f7a21',
  event: 'order.completed',
  reference_id: 'ORD-2026-0001',
  status: 'exhausted',
  attempts: 9,
  last_status_code: 503,
  last_error: 'HTTP 503',
  next_attempt_at: null,
  delivered_at: null
}

const notFound = { notFound: { summary: 'No such webhook', value: { status: 404, code: 'NOT_FOUND', message: 'Webhook not found' } } }
const id = { id: '1' }

export const MERCHANT_WEBHOOK_EXAMPLES: Record<string, RouteExamples> = {
  'POST /v1/merchant-webhooks': {
    body: { register: { summary: 'Point an existing receiver at the mirror', value: { url: endpoint.url, secret: 'whsec-shop-0123456789abcdef', events: endpoint.events, description: endpoint.description } } },
    responses: {
      201: { registered: { summary: 'The record; the secret only as its hint from now on', value: endpoint } },
      400: { badUrl: { summary: 'Credentials in the URL', value: { status: 400, code: 'VALIDATION_ERROR', message: 'body.url: must not carry credentials (user:password@)' } } }
    }
  },
  'GET /v1/merchant-webhooks': {
    responses: { 200: { list: { summary: 'A bare array', value: [endpoint] } } }
  },
  'GET /v1/merchant-webhooks/:id': {
    params: id,
    responses: { 200: { one: { summary: 'One webhook', value: endpoint } }, 404: notFound }
  },
  'PATCH /v1/merchant-webhooks/:id': {
    params: id,
    body: { pause: { summary: 'Stop deliveries for a while (events wait until it is active again)', value: { status: 'inactive' } } },
    responses: { 200: { paused: { summary: 'The changed record', value: { ...endpoint, status: 'inactive' } } }, 404: notFound }
  },
  'DELETE /v1/merchant-webhooks/:id': {
    params: id,
    responses: { 204: { removed: { summary: 'Removed, with its deliveries', value: null } }, 404: notFound }
  },
  'GET /v1/merchant-webhooks/:id/deliveries': {
    params: id,
    querystring: { limit: 100 },
    responses: {
      200: { recent: { summary: 'Newest first: one delivered, one out of retries', value: [delivery, { ...delivery, id: 41, event: 'order.processing', status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, delivered_at: '2026-02-23T08:07:50.120Z' }] } },
      404: notFound
    }
  },
  'POST /v1/merchant-webhooks/:id/deliveries/:delivery_id/retry': {
    params: { id: '1', delivery_id: '42' },
    responses: {
      202: { queued: { summary: 'Due now, with a fresh retry budget', value: { ...delivery, status: 'pending', next_attempt_at: '2026-02-23T08:00:00.000Z' } } },
      404: { notFound: { summary: 'No such delivery of this webhook', value: { status: 404, code: 'NOT_FOUND', message: 'Delivery not found' } } },
      409: { delivered: { summary: 'Already delivered', value: { status: 409, code: 'ALREADY_DELIVERED', message: 'The delivery was already delivered' } } }
    }
  }
}
