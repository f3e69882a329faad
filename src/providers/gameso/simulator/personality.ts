import { createBaseControl } from '../../../simulator/control.js'
import { orderControlRoutes } from '../../../simulator/order-control-routes.js'
import { parseBody } from '../../../simulator/parse-body.js'
import { liveSettings } from '../../../simulator/personality-options.js'
import type { SimulatorPersonality } from '../../../simulator/personality.js'
import { upstreamParts } from '../../../simulator/upstream-parts.js'
import { apiRoutes, SERVER_ERROR_STATUSES } from './api-routes.js'
import { buildCatalog } from './catalog.js'
import type { GameSoControl } from './control.js'
import { environment, optionsSchema, settingsSchema } from './options.js'
import { OrderBook } from './order-book.js'
import { seedBatchSchema, seedOrderSchema, type SeedOrderInput } from './order-schemas.js'
import { ORDER_STATUSES, toGameSoOrder } from './order.js'
import { gamesoWebhooks } from './webhooks.js'

/**
 * GameSO as the simulator plays it: the order API (`POST /v1/orders`, `GET /v1/orders/:reference_id`)
 * behind `X-API-Key`, orders moving pending → processing → completed | failed on timers, and
 * HMAC-signed `order.<status>` webhooks with GameSO's fixed retry delay.
 */
export const gamesoSimulator: SimulatorPersonality<typeof optionsSchema, GameSoControl> = {
  optionsSchema,
  environment,
  start (context, options) {
    const settings = liveSettings(settingsSchema, options)
    const { faults, stats, dispatcher, gate, started } = upstreamParts(context, {
      settings,
      faults: options.faults,
      retryDelayMs: (retry) => retry <= settings.maxRetries ? settings.retryDelayMs : undefined,
      serverErrorStatuses: SERVER_ERROR_STATUSES
    })
    const book = new OrderBook({
      catalog: buildCatalog(options.catalog, options.extraSkus),
      random: context.random.orders,
      settings,
      now: context.now,
      onChange: gamesoWebhooks(settings, dispatcher)
    })

    const base = createBaseControl({
      seed: context.seed,
      stats,
      faults,
      dispatcher,
      settings,
      settingsSchema,
      secretSettings: ['webhookSecret'],
      book,
      statuses: ORDER_STATUSES
    })
    const control: GameSoControl = {
      ...base,
      apiKey: options.apiKey,
      seedOrders: (seeds) => book.seed(parseBody(seedBatchSchema, { orders: seeds }).orders).map(toGameSoOrder),
      order: (referenceId) => {
        const order = book.get(referenceId)
        return order && toGameSoOrder(order)
      },
      orders: (status) => book.list(status).map(toGameSoOrder),
      advance: (referenceId) => toGameSoOrder(book.advance(referenceId))
    }

    return {
      control,
      api: (app) => apiRoutes(app, { apiKey: options.apiKey, book, gate, stats }),
      orderControlApi: (app) => orderControlRoutes(app, {
        control: { ...control, seedOrders: (seeds) => control.seedOrders(seeds as readonly SeedOrderInput[]) },
        statuses: ORDER_STATUSES,
        seedSchema: seedOrderSchema
      }),
      summary: () => ({ orders: book.size, webhookUrls: settings.webhookUrls, faults: faults.toJSON() }),
      mirrorEnvironment: (baseUrl) => ({
        GAMESO_BASE_URL: baseUrl,
        GAMESO_API_KEY: options.apiKey,
        ...(settings.webhookSecret === null ? {} : { GAMESO_WEBHOOK_SECRETS: settings.webhookSecret }),
        ...(settings.signatureHeader === 'x-gameso-signature' ? {} : { GAMESO_SIGNATURE_HEADER: settings.signatureHeader })
      }),
      started,
      close: async () => {
        book.pauseAll()
        await dispatcher.close()
      }
    }
  }
}
