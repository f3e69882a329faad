import { providers } from '../providers/index.js'
import type { RouteExamples } from './route-example-types.js'

// /docs example of the changes feed (SPEC §2.5): a page holding one change, with the order as the
// first provider's read route shows it in its own examples.

const [provider] = providers
const readExamples = provider.routeExamples['GET /v1/orders/:reference_id']?.responses[200] ?? {}
const order = Object.values(readExamples)[0]?.value as Record<string, unknown> | undefined

export const ORDER_CHANGES_EXAMPLES: Record<string, RouteExamples> = {
  'GET /v1/orders/changes': {
    querystring: { limit: 100, wait: 20 },
    responses: {
      200: {
        page: {
          summary: 'One change; poll again from next_cursor',
          value: {
            changes: [{
              provider: provider.name,
              reference_id: String(order?.reference_id ?? 'ORD-2026-0001'),
              from: 'processing',
              to: 'completed',
              source: 'webhook',
              changed_at: '2026-02-23T08:08:15.391Z',
              order: order ?? {}
            }],
            next_cursor: 'WyI3NDIiLCIxMDQiXQ'
          }
        }
      },
      400: { badCursor: { summary: 'A cursor the feed did not write', value: { status: 400, code: 'VALIDATION_ERROR', message: 'query.cursor: invalid cursor: pass next_cursor from the previous page unchanged' } } }
    }
  }
}
