// How `npm run demo` plays one upstream: the demo (src/cli/demo.ts) loops over the registry and
// asks each provider module's `demo` for its part, so it never names an upstream itself.

/** The merchant API of the mirror the demo runs, with the demo's merchant key. */
export type DemoMerchantCall = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number, json: T }>

export interface DemoStackInfo {
  /** The mirror's base URL, where the simulator sends this upstream's webhooks. */
  serviceUrl: string
  /** Share of webhook deliveries the simulator drops. */
  dropRate: number
}

/** What placing one order needs: the running simulator and mirror. */
export interface DemoPlacing {
  simulatorUrl: string
  merchant: DemoMerchantCall
  /** Short id of this run, so references do not collide with an earlier run's on a kept database. */
  runId: string
  /** 0-based position of the order in this run. */
  index: number
}

export interface PlacedDemoOrder {
  reference: string
  /** The status it starts in, as the upstream names it. */
  status: string
  /** What was bought, e.g. `2× UC_325`. */
  basket: string
  /** Set when the demo keeps every webhook of this order from the mirror, whatever the drop rate: why. */
  withheld?: string
}

/** An order as the mirror's read API shows it, read by the demo. */
export interface DemoOrderState {
  /** Whether the order has reached a final state. */
  final: boolean
  /** The upstream's own status (`completed`, `Finished` …), as history rows name it in `to_provider_status`. */
  providerStatus: string
  /** Whether the final state is the good outcome (delivered rather than failed). */
  succeeded: boolean
  /** One line about its outcome, e.g. `completed  3/3 units`. */
  summary: string
}

export interface ProviderDemo {
  /** How orders come to be, for the heading above them. */
  readonly ordersHeading: string
  /** The simulator's variables for this upstream: webhooks to the mirror, dropping `dropRate` of them. */
  simulatorEnvironment (stack: DemoStackInfo): Record<string, string>
  /** The mirror's variables that point it at this upstream's simulator (keys read from its control API when needed). */
  serviceEnvironment (simulatorUrl: string): Promise<Record<string, string>>
  /** Places one order, as a merchant or a player would. */
  placeOrder (placing: DemoPlacing): Promise<PlacedDemoOrder>
  /** The mirror's read path for an order. */
  orderPath (reference: string): string
  /** What an answer from `orderPath` says about the order. */
  describe (order: unknown): DemoOrderState
  /** Commands that try this provider's routes on the running stack. */
  exploreCommands (serviceUrl: string, apiKeyHeader: string, exampleReference: string): string[]
}
