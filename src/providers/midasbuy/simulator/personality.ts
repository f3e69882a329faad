import { createBaseControl } from '../../../simulator/control.js'
import { parseBody } from '../../../simulator/parse-body.js'
import { liveSettings } from '../../../simulator/personality-options.js'
import type { SimulatorPersonality } from '../../../simulator/personality.js'
import { upstreamParts } from '../../../simulator/upstream-parts.js'
import { DEFAULT_REQUEST_SIGNING } from '../midasbuy-request-signature.js'
import { MIDASBUY_STATUSES } from '../midasbuy-schemas.js'
import { orderQueryRoutes, SERVER_ERROR_STATUSES, zeroSignatureCounters } from './api-routes.js'
import { orderControlRoutes } from './control-routes.js'
import type { MidasBuyControl } from './control.js'
import { SimulatorKeys } from './keys.js'
import { acceptsNotificationAnswer, paymentNotifier } from './notifications.js'
import { environment, optionsSchema, settingsSchema } from './options.js'
import { PaymentOrderBook } from './order-book.js'
import { purchaseSchema, seedBatchSchema } from './order-schemas.js'
import { toOrderQuery } from './order.js'

/** A PEM on one line, `\n` written out: how a mirror's environment takes it. */
function oneLine (pem: string): string {
  return pem.trim().replaceAll('\n', '\\n')
}

/**
 * MidasBuy as the simulator plays it: OrderQuery behind the merchant's request signature, payment
 * orders moving Created → Paid → Finished (some Refunded later) on timers, and platform-signed
 * payment notifications retried on MidasBuy's documented schedule.
 */
export const midasbuySimulator: SimulatorPersonality<typeof optionsSchema, MidasBuyControl> = {
  optionsSchema,
  environment,
  start (context, options) {
    const settings = liveSettings(settingsSchema, options)
    const { faults, stats, dispatcher, gate, started } = upstreamParts(context, {
      settings,
      faults: options.faults,
      retryDelayMs: (retry) => settings.retryScheduleMs[retry - 1],
      accepts: acceptsNotificationAnswer,
      serverErrorStatuses: SERVER_ERROR_STATUSES
    })
    const keys = new SimulatorKeys({ merchantPublicKey: options.merchantPublicKey, platformPrivateKey: options.platformPrivateKey })
    let signatures = zeroSignatureCounters()
    const book = new PaymentOrderBook({
      appId: options.appId,
      random: context.random.orders,
      settings,
      now: context.now,
      onChange: paymentNotifier({ settings, keys, platformSerialNo: options.platformSerialNo, dispatcher, random: context.random.webhooks, now: context.now })
    })
    const signing = { ...DEFAULT_REQUEST_SIGNING, urlForm: options.signedUrlForm, authIdParameter: options.authIdParameter }

    const base = createBaseControl({
      seed: context.seed,
      stats,
      faults,
      dispatcher,
      settings,
      settingsSchema,
      secretSettings: [],
      book,
      statuses: MIDASBUY_STATUSES,
      extraStats: () => ({ signatures: structuredClone(signatures) }),
      onStatsReset: () => { signatures = zeroSignatureCounters() }
    })
    const control: MidasBuyControl = {
      ...base,
      appId: options.appId,
      credentials: () => ({
        app_id: options.appId,
        merchant_cert_serial_no: options.merchantCertSerialNo,
        merchant_public_key: keys.merchantPublicKeyPem(),
        merchant_private_key: keys.generatedMerchantPrivateKeyPem(),
        platform_public_key: keys.platformPublicKeyPem(),
        platform_serial_no: options.platformSerialNo,
        signature_header: settings.signatureHeader
      }),
      purchase: (input = {}) => toOrderQuery(book.purchase(parseBody(purchaseSchema, input))),
      seedOrders: (seeds) => book.seed(parseBody(seedBatchSchema, { orders: seeds }).orders).map(toOrderQuery),
      order: (id) => {
        const order = book.get(id)
        return order && toOrderQuery(order)
      },
      orders: (status) => book.list(status).map(toOrderQuery),
      advance: (id) => toOrderQuery(book.advance(id)),
      refund: (id) => toOrderQuery(book.refund(id))
    }

    return {
      control,
      api: (app) => orderQueryRoutes(app, {
        book,
        gate,
        stats,
        keys,
        settings,
        appId: options.appId,
        merchantCertSerialNo: options.merchantCertSerialNo,
        platformSerialNo: options.platformSerialNo,
        signing,
        // Read through a function: a stats reset replaces the counters.
        signatures: () => signatures,
        now: context.now
      }),
      orderControlApi: (app) => orderControlRoutes(app, { control }),
      summary: () => ({ orders: book.size, webhookUrls: settings.webhookUrls, faults: faults.toJSON() }),
      mirrorEnvironment: (baseUrl) => {
        const merchantPrivateKey = keys.generatedMerchantPrivateKeyPem()
        return {
          MIDASBUY_BASE_URL: baseUrl,
          MIDASBUY_APP_ID: options.appId,
          // The serial the simulator requires, or the SDK's default when it accepts any.
          MIDASBUY_CERT_SERIAL_NO: options.merchantCertSerialNo ?? '1',
          ...(merchantPrivateKey === null ? {} : { MIDASBUY_MERCHANT_PRIVATE_KEY: oneLine(merchantPrivateKey) }),
          MIDASBUY_PLATFORM_PUBLIC_KEY: oneLine(keys.platformPublicKeyPem()),
          ...(settings.signatureHeader === 'txgw-signature' ? {} : { MIDASBUY_SIGNATURE_HEADER: settings.signatureHeader })
        }
      },
      started,
      close: async () => {
        book.pauseAll()
        await dispatcher.close()
      }
    }
  }
}
