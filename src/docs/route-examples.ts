import { providers } from '../providers/index.js'
import { MERCHANT_WEBHOOK_EXAMPLES } from './merchant-webhook-examples.js'
import { ORDER_CHANGES_EXAMPLES } from './order-changes-examples.js'
import type { RouteExamples } from './route-example-types.js'

export type { NamedExample, RouteExamples } from './route-example-types.js'

// The examples /docs shows for every route: the generic ones here, each provider's from its
// module, built from the upstreams' own example payloads so "Try it out" starts from something
// real. A test checks that every route has examples, that each one fits its schema, and that the
// read examples are exactly what the mirror answers for the docs' payloads.

/** The provider the generic examples (readiness, metrics) name: the registry's first. */
const EXAMPLE_PROVIDER = providers[0].name

export const ROUTE_EXAMPLES: Record<string, RouteExamples> = {
  ...MERCHANT_WEBHOOK_EXAMPLES,
  ...ORDER_CHANGES_EXAMPLES,
  'GET /health/live': {
    responses: { 200: { live: { summary: 'The process runs', value: { status: 'ok' } } } }
  },
  'GET /health/ready': {
    responses: {
      200: {
        ready: {
          summary: 'Database reachable and migrated',
          value: {
            status: 'ready',
            checks: {
              database: { ready: true, migrations: 'applied', latencyMs: 1.2 },
              webhooks: { ready: true, lastReceivedAt: { [EXAMPLE_PROVIDER]: '2026-02-23T08:08:15.412Z' } },
              reconciler: { ready: true, state: 'running', due: 0, waiting: 3, overdueSeconds: 0, oldestUnreconciledAgeSeconds: 42 }
            }
          }
        }
      },
      503: {
        pendingMigrations: {
          summary: 'Migrations not applied yet',
          value: { status: 'not_ready', checks: { database: { ready: false, migrations: 'pending', pending: ['20261127190000_reconcile_indexes'], latencyMs: 1.4 } } }
        }
      }
    }
  },
  'GET /metrics': {
    responses: {
      200: {
        metrics: {
          summary: 'Prometheus text (an excerpt)',
          value: '# HELP order_mirror_webhooks_total Webhook deliveries by provider and outcome (applied, duplicate, stale, ignored, invalid, rejected, unavailable)\n' +
            '# TYPE order_mirror_webhooks_total counter\n' +
            `order_mirror_webhooks_total{provider="${EXAMPLE_PROVIDER}",outcome="applied"} 1\n`
        }
      }
    }
  }
}

for (const provider of providers) Object.assign(ROUTE_EXAMPLES, provider.routeExamples)
