import type { BaseControl, PublicSettings } from '../../../simulator/control.js'
import type { StatsView } from '../../../simulator/stats.js'
import type { MidasBuyStatus } from '../midasbuy-schemas.js'
import type { SignatureCounters } from './api-routes.js'
import type { Settings } from './options.js'
import type { PurchaseInput, SeedOrderInput } from './order-schemas.js'
import type { OrderQueryOrder } from './order.js'

/** What a mirror needs to talk to this simulated MidasBuy, and what it signs with. */
export interface MidasBuyCredentials {
  app_id: string
  /** The serial the simulator requires in requests; null when it accepts any. */
  merchant_cert_serial_no: string | null
  merchant_public_key: string
  /** Only when the simulator made the merchant key pair itself; a configured key's private half it never had. */
  merchant_private_key: string | null
  /** Verifies the simulator's notifications and signed answers. */
  platform_public_key: string
  platform_serial_no: string
  signature_header: string
}

/** MidasBuy's control: the common part plus its payment orders. */
export interface MidasBuyControl extends BaseControl<Settings, PublicSettings<Settings, never>, StatsView<MidasBuyStatus> & { signatures: SignatureCounters }> {
  readonly appId: string
  credentials (): MidasBuyCredentials
  /** A player buys now: a Created order that moves on and notifies. */
  purchase (input?: PurchaseInput): OrderQueryOrder
  /** Inserts orders as if bought earlier (silent unless send_notifications); all or none. */
  seedOrders (seeds: readonly SeedOrderInput[]): OrderQueryOrder[]
  order (paymentOrderId: string): OrderQueryOrder | undefined
  orders (status?: MidasBuyStatus): OrderQueryOrder[]
  /** Forces the order's next transition now. */
  advance (paymentOrderId: string): OrderQueryOrder
  /** Refunds a Paid or Finished order now. */
  refund (paymentOrderId: string): OrderQueryOrder
}
