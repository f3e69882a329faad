import { createPrivateKey, createPublicKey } from 'node:crypto'
import { z } from 'zod'
import { faultsSchema } from '../../../simulator/faults.js'
import {
  asBoolean, asList, asNumber, asNumberList, asText, faultEnvironment, headerNameSchema, millis, webhookTimeoutMsSchema, webhookUrlsSchema,
  type EnvironmentOption
} from '../../../simulator/personality-options.js'
import { SIGNED_URL_FORMS } from '../midasbuy-request-signature.js'
import { MIDASBUY_STATUSES } from '../midasbuy-schemas.js'

/** MidasBuy's documented retry intervals for asynchronous events: 1 s, 1 min, 10 min, 30 min, 1 h, 6 h, 12 h, 24 h, 168 h. */
export const MIDASBUY_RETRY_SCHEDULE_MS = [1, 60, 600, 1800, 3600, 21_600, 43_200, 86_400, 604_800].map((seconds) => seconds * 1000)

export const ARRAY_BODY_MODES = ['never', 'always', 'random'] as const

/** What may change while the simulator runs (POST /_control/midasbuy/settings); keys and ids are fixed at start. */
export const settingsSchema = z.object({
  /** Where payment notifications go, e.g. a mirror's /webhooks/midasbuy/payment_notification. */
  webhookUrls: webhookUrlsSchema,
  webhookTimeoutMs: webhookTimeoutMsSchema,
  /** Wait before each retry; its length is the number of retries. */
  retryScheduleMs: z.array(z.number().int().min(0).max(604_800_000)).max(100).default(MIDASBUY_RETRY_SCHEDULE_MS),
  /** Header carrying the notification signature (the docs cut off before naming it; MidasPay's is Txgw-Signature). */
  signatureHeader: headerNameSchema('txgw-signature'),
  /** Statuses whose change sends a payment notification (the docs: every change of order_status). */
  notificationStatuses: z.array(z.enum(MIDASBUY_STATUSES)).default([...MIDASBUY_STATUSES]),
  /** Send a notification body as a JSON array of one envelope: never, always, or for half of them. */
  arrayBodies: z.enum(ARRAY_BODY_MODES).default('never'),
  // The docs leave the envelope's type values unstated; these follow the pattern of MidasBuy's
  // SDK example for user validation (event_type USER_VALIDATE, resource_type RESOURCE_TYPE_USER).
  eventType: z.string().min(1).max(128).default('PAYMENT_NOTIFICATION'),
  resourceType: z.string().min(1).max(128).default('RESOURCE_TYPE_PAYMENT_ORDER'),
  /** MidasBuy's SDK example sends "1.0". */
  eventVersion: z.string().min(1).max(64).default('1.0'),
  /** The docs: "current version: v1". */
  resourceVersion: z.string().min(1).max(64).default('v1'),
  /** Created → Paid. */
  paidDelayMs: millis(1000),
  /** Paid → Finished. */
  finishDelayMs: millis(1000),
  /** Finished → Refunded, for the orders drawn to be refunded. */
  refundDelayMs: millis(5000),
  /** Share of new orders refunded some time after Finished. */
  refundRate: z.number().min(0).max(1).default(0.1),
  /** Off: orders stay where they are until POST /_control/midasbuy/orders/:payment_order_id/advance. */
  autoProgress: z.boolean().default(true),
  /** Sign OrderQuery answers with the platform key (Txgw-Timestamp/Nonce/Signature/Serial), as MidasPay signs its API responses. */
  signResponses: z.boolean().default(true),
  /** Refuse a request signed further than this from now (0 accepts any); the docs give no window. */
  requestToleranceSeconds: z.number().int().min(0).max(86_400).default(300)
})

export type Settings = z.output<typeof settingsSchema>

/** A PEM from an option or a one-line environment variable (literal `\n` escapes undone). */
const pem = z.string().transform((value) => value.replaceAll('\\n', '\n'))

const rsaPublicKeyPem = pem
  .refine((text) => !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text), 'expected a public key, got a private key')
  .refine((text) => {
    try {
      return createPublicKey(text).asymmetricKeyType === 'rsa'
    } catch {
      return false
    }
  }, 'expected an RSA public key or certificate in PEM form')

const rsaPrivateKeyPem = pem.refine((text) => {
  try {
    return createPrivateKey(text).asymmetricKeyType === 'rsa'
  } catch {
    return false
  }
}, 'expected an RSA private key in PEM form (PKCS#8 or PKCS#1)')

/** Characters that survive in an Authorization header parameter. */
const headerValue = z.string().regex(/^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]{1,128}$/, 'expected visible ASCII without commas, quotes or backslashes')

export const optionsSchema = settingsSchema.extend({
  /** The merchant's app id: answers carry it, requests must sign with it (the docs' sample id). */
  appId: headerValue.default('1450015065'),
  /** Verifies OrderQuery request signatures; unset, the simulator makes a merchant key pair and hands out the private half. */
  merchantPublicKey: rsaPublicKeyPem.nullable().default(null),
  /** Accept only this certificate serial in requests; unset accepts any. */
  merchantCertSerialNo: headerValue.nullable().default(null),
  /** Signs notifications and answers; unset, the simulator makes a platform key pair. */
  platformPrivateKey: rsaPrivateKeyPem.nullable().default(null),
  /** Sent as Txgw-Serial (MidasPay's example serial). */
  platformSerialNo: headerValue.default('5157F09EFDC096DE15EBE81A47057A7232F1B8E1'),
  /** What the URL line of a request signature holds: the path and query, or the absolute URL. */
  signedUrlForm: z.enum(SIGNED_URL_FORMS).default('path'),
  /** The Authorization parameter that carries the app id. */
  authIdParameter: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/).default('auth_id'),
  faults: faultsSchema.prefault({})
})

export type MidasBuySimulatorOptions = z.output<typeof optionsSchema>

const PREFIX = 'SIMULATOR_MIDASBUY_'

/** Environment variable → option path; the simulator README lists each of them. */
export const environment: readonly EnvironmentOption[] = [
  [`${PREFIX}APP_ID`, ['appId'], asText],
  [`${PREFIX}MERCHANT_PUBLIC_KEY`, ['merchantPublicKey'], asText],
  [`${PREFIX}MERCHANT_CERT_SERIAL_NO`, ['merchantCertSerialNo'], asText],
  [`${PREFIX}PLATFORM_PRIVATE_KEY`, ['platformPrivateKey'], asText],
  [`${PREFIX}PLATFORM_SERIAL_NO`, ['platformSerialNo'], asText],
  [`${PREFIX}SIGNED_URL_FORM`, ['signedUrlForm'], asText],
  [`${PREFIX}AUTH_ID_PARAMETER`, ['authIdParameter'], asText],
  [`${PREFIX}REQUEST_TOLERANCE_SECONDS`, ['requestToleranceSeconds'], asNumber],
  [`${PREFIX}SIGN_RESPONSES`, ['signResponses'], asBoolean],
  [`${PREFIX}WEBHOOK_URL`, ['webhookUrls'], asList],
  [`${PREFIX}WEBHOOK_TIMEOUT_MS`, ['webhookTimeoutMs'], asNumber],
  [`${PREFIX}WEBHOOK_RETRY_SCHEDULE_MS`, ['retryScheduleMs'], asNumberList],
  [`${PREFIX}SIGNATURE_HEADER`, ['signatureHeader'], asText],
  [`${PREFIX}NOTIFICATION_STATUSES`, ['notificationStatuses'], asList],
  [`${PREFIX}ARRAY_BODIES`, ['arrayBodies'], asText],
  [`${PREFIX}EVENT_TYPE`, ['eventType'], asText],
  [`${PREFIX}RESOURCE_TYPE`, ['resourceType'], asText],
  [`${PREFIX}EVENT_VERSION`, ['eventVersion'], asText],
  [`${PREFIX}RESOURCE_VERSION`, ['resourceVersion'], asText],
  [`${PREFIX}PAID_DELAY_MS`, ['paidDelayMs'], asNumber],
  [`${PREFIX}FINISH_DELAY_MS`, ['finishDelayMs'], asNumber],
  [`${PREFIX}REFUND_DELAY_MS`, ['refundDelayMs'], asNumber],
  [`${PREFIX}REFUND_RATE`, ['refundRate'], asNumber],
  [`${PREFIX}AUTO_PROGRESS`, ['autoProgress'], asBoolean],
  ...faultEnvironment(PREFIX)
]
