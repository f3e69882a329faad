import { ApiGate } from '../../../simulator/api-gate.js'
import { createBaseControl } from '../../../simulator/control.js'
import { FaultState } from '../../../simulator/faults.js'
import { parseBody } from '../../../simulator/parse-body.js'
import { liveSettings } from '../../../simulator/personality-options.js'
import type { SimulatorPersonality } from '../../../simulator/personality.js'
import { SimulatorStats } from '../../../simulator/stats.js'
import { WebhookDispatcher } from '../../../simulator/webhook-dispatcher.js'
import { apiRoutes, SERVER_ERROR_STATUSES } from './api-routes.js'
import { buildCatalog } from './catalog.js'
import { orderControlRoutes } from './control-routes.js'
import type { GameSoControl } from './control.js'
import { environment, optionsSchema, settingsSchema } from './options.js'
import { OrderBook } from './order-book.js'
import { seedBatchSchema } from './order-schemas.js'
import { ORDER_STATUSES, toGameSoOrder, type GameSoOrder, type OrderStatus } from './order.js'
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
    const faults = new FaultState(options.faults, context.now)
    const stats = new SimulatorStats()
    const dispatcher = new WebhookDispatcher({
      settings,
      retryDelayMs: (retry) => retry <= settings.maxRetries ? settings.retryDelayMs : undefined,
      faults: () => faults.faults,
      random: context.random.webhooks,
      stats,
      log: context.log
    })
    const book = new OrderBook({
      catalog: buildCatalog(options.catalog, options.extraSkus),
      random: context.random.orders,
      settings,
      now: context.now,
      onChange: gamesoWebhooks(settings, dispatcher)
    })
    const gate = new ApiGate({ faults, random: context.random.api, sleeper: context.sleeper, serverErrorStatuses: SERVER_ERROR_STATUSES })

    const base = createBaseControl({
      seed: context.seed,
      stats,
      faults,
      dispatcher,
      settings,
      settingsSchema,
      secretSettings: ['webhookSecret'],
      orderCounts: () => {
        const byStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>
        for (const order of book.values()) byStatus[order.status]++
        return { total: book.size, byStatus }
      },
      extraStats: () => ({}),
      // Delay changes apply from each order's next step; switching autoProgress acts at once.
      settingsChanged: (patch) => {
        if (patch.autoProgress === true) book.resumeAll()
        if (patch.autoProgress === false) book.pauseAll()
      },
      clearOrders: () => book.clear()
    })
    const control: GameSoControl = {
      ...base,
      apiKey: options.apiKey,
      seedOrders: (seeds) => book.seed(parseBody(seedBatchSchema, { orders: seeds }).orders).map(toGameSoOrder),
      order: (referenceId) => {
        const order = book.get(referenceId)
        return order && toGameSoOrder(order)
      },
      orders: (status) => {
        const found: GameSoOrder[] = []
        for (const order of book.values()) if (status === undefined || order.status === status) found.push(toGameSoOrder(order))
        return found
      },
      advance: (referenceId) => toGameSoOrder(book.advance(referenceId))
    }

    return {
      control,
      api: (app) => apiRoutes(app, { apiKey: options.apiKey, book, gate, stats }),
      orderControlApi: (app) => orderControlRoutes(app, { control }),
      summary: () => ({ orders: book.size, webhookUrls: settings.webhookUrls, faults: faults.toJSON() }),
      mirrorEnvironment: (baseUrl) => ({
        GAMESO_BASE_URL: baseUrl,
        GAMESO_API_KEY: options.apiKey,
        ...(settings.webhookSecret === null ? {} : { GAMESO_WEBHOOK_SECRETS: settings.webhookSecret }),
        ...(settings.signatureHeader === 'x-gameso-signature' ? {} : { GAMESO_SIGNATURE_HEADER: settings.signatureHeader })
      }),
      close: async () => {
        book.pauseAll()
        await dispatcher.close()
      }
    }
  }
}
