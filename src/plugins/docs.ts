import swagger, { type SwaggerTransform } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { ROUTE_EXAMPLES, type NamedExample, type RouteExamples } from '../docs/route-examples.js'
import { providers } from '../providers/index.js'

/** "GameSO and MidasBuy": every upstream of the registry, as people write it. */
const UPSTREAMS = providers.map((provider) => provider.displayName).join(' and ')

/** The upstreams whose webhook route answers failures in a shape of its own. */
const OWN_FAILURE_SHAPES = providers
  .filter((provider) => provider.webhook.replies.failure !== null)
  .map((provider) => `${provider.displayName}'s webhook route answers ${provider.webhook.replies.failure?.shape ?? ''}`)

const DESCRIPTION = [
  `Local mirror of ${UPSTREAMS} orders. Every error body is \`{status, code, message}\`${OWN_FAILURE_SHAPES.length > 0 ? ` (${OWN_FAILURE_SHAPES.join('; ')})` : ''}.`,
  '',
  '**Try it from this page:** press **Authorize** and enter an API key: one of `API_KEYS`, or, on a zero-configuration `npm start`, ' +
    'the local key its start banner prints (kept in `.data/credentials.json`). Then open a route, **Try it out**, **Execute**. ' +
    `The examples are ${providers.map((provider) => `${provider.displayName}'s`).join(' and ')} own example payloads. Webhook routes need the upstream's signature: ` +
    '`npm run send` posts signed ones from a terminal.'
].join('\n')

type JsonSchema = Record<string, unknown>

function withPropertyExamples (schema: unknown, examples: Record<string, string | number>): JsonSchema {
  const base = (schema ?? { type: 'object', properties: {} }) as JsonSchema
  const properties = { ...(base.properties as Record<string, JsonSchema> | undefined) }
  for (const [name, example] of Object.entries(examples)) properties[name] = { ...properties[name], example }
  return { ...base, properties }
}

/** A documented body or answer with its named examples; a route without a schema for it gets one just for the page. */
function withNamedExamples (schema: unknown, named: Record<string, NamedExample>): JsonSchema {
  const first = Object.values(named)[0]?.value
  return { ...((schema ?? { type: typeof first === 'string' ? 'string' : 'object' }) as JsonSchema), 'x-examples': named }
}

/**
 * The route's documented schema with its examples added. Copies at every level it touches: the
 * schemas generated from zod are shared between routes that use the same zod schema.
 */
function withExamples (schema: JsonSchema, examples: RouteExamples): JsonSchema {
  const documented: JsonSchema = { ...schema }
  if (examples.params) documented.params = withPropertyExamples(schema.params, examples.params)
  if (examples.querystring) documented.querystring = withPropertyExamples(schema.querystring, examples.querystring)
  if (examples.body) documented.body = withNamedExamples(schema.body, examples.body)
  const response = { ...(schema.response as Record<string, unknown> | undefined) }
  for (const [status, named] of Object.entries(examples.responses)) {
    if (named) response[status] = withNamedExamples(response[status], named)
  }
  documented.response = response
  if (examples.note) documented.description = [schema.description, examples.note].filter(Boolean).join('\n\n')
  return documented
}

/** The key of a route in ROUTE_EXAMPLES: `GET /v1/orders/:reference_id`. */
export function routeExamplesKey (method: string, url: string): string {
  return `${method} ${url}`
}

const transform: SwaggerTransform = (document) => {
  const transformed = jsonSchemaTransform(document)
  const examples = [document.route.method].flat().map((method) => ROUTE_EXAMPLES[routeExamplesKey(method, document.url)]).find(Boolean)
  if (!examples || !transformed.schema) return transformed
  return { url: transformed.url, schema: withExamples(transformed.schema as JsonSchema, examples) }
}

/**
 * `/docs`: the OpenAPI document generated from the route schemas (`/docs/json`) and the UI a person
 * uses to try every route: examples from the upstreams' payloads, the X-API-Key scheme behind
 * "Authorize". Registered before the routes, whose schemas it collects as they are added.
 */
export const docsPlugin = fp(async function docsPlugin (app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      info: { title: 'order-mirror', description: DESCRIPTION, version: '1.0.0' },
      tags: [
        { name: 'orders', description: 'Merchant API: every route needs X-API-Key (Authorize)' },
        { name: 'webhooks', description: `Where ${UPSTREAMS} post; signed by the upstream` },
        { name: 'ops', description: 'Health and metrics, no key' }
      ],
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'One of API_KEYS, or the local key `npm start` prints' } }
      }
    },
    transform
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, displayRequestDuration: true, tryItOutEnabled: true }
  })
}, { name: 'docs' })
