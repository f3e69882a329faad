import { ApiGate } from './api-gate.js'
import { FaultState, type FaultsInput } from './faults.js'
import type { PersonalityContext } from './personality.js'
import { SimulatorStats } from './stats.js'
import { WebhookDispatcher, type DeliverySettings, type WebhookDispatcherOptions } from './webhook-dispatcher.js'

export interface UpstreamPartsOptions {
  /** The live settings the dispatcher reads its URLs and timeout from. */
  settings: DeliverySettings
  faults: FaultsInput
  retryDelayMs: WebhookDispatcherOptions['retryDelayMs']
  accepts?: WebhookDispatcherOptions['accepts']
  /** The 5xx statuses a random server error is drawn from. */
  serverErrorStatuses: readonly number[]
}

/** What every simulated upstream is built on: its own faults, stats, webhook dispatcher and API gate. */
export function upstreamParts (context: PersonalityContext, options: UpstreamPartsOptions) {
  const faults = new FaultState(options.faults, context.now)
  const stats = new SimulatorStats()
  const dispatcher = new WebhookDispatcher({
    settings: options.settings,
    retryDelayMs: options.retryDelayMs,
    ...(options.accepts === undefined ? {} : { accepts: options.accepts }),
    faults: () => faults.faults,
    random: context.random.webhooks,
    stats,
    log: context.log
  })
  const gate = new ApiGate({ faults, random: context.random.api, sleeper: context.sleeper, serverErrorStatuses: options.serverErrorStatuses })
  // An outage given at start lasts that long from when the simulator can answer, not from when
  // this upstream was built: registering every upstream's routes takes a while on a busy machine.
  const started = () => {
    if (options.faults.downForMs !== undefined && options.faults.downForMs > 0) faults.update({ downForMs: options.faults.downForMs })
  }
  return { faults, stats, dispatcher, gate, started }
}
