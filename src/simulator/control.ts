import type { z } from 'zod'
import type { FaultState, faultsPatchSchema } from './faults.js'
import { patchSchemaOf } from './patch-schema.js'
import type { SimulatorStats, StatsView } from './stats.js'
import type { TimedOrderBook } from './timed-order-book.js'
import type { WebhookDispatcher } from './webhook-dispatcher.js'

type FaultsView = ReturnType<FaultState['toJSON']>

/** Settings as the control API shows them: each secret only as `<name>Set`, never its value. */
export type PublicSettings<Settings, Secret extends keyof Settings> =
  Omit<Settings, Secret> & { [Name in Secret as `${Name & string}Set`]: boolean }

/** What every simulated upstream's control API does, over HTTP and in-process. */
export interface BaseControl<Settings extends object = object, Shown = unknown, Stats extends StatsView = StatsView> {
  readonly seed: number
  stats (): Stats
  resetStats (): void
  faults (): FaultsView
  setFaults (patch: z.output<typeof faultsPatchSchema>): FaultsView
  clearFaults (): FaultsView
  settings (): Shown
  /** Changes only the settings named; what may change is `settingsPatchSchema`. */
  updateSettings (patch: Partial<Settings>): Shown
  readonly settingsPatchSchema: z.ZodType<Partial<Settings>>
  clearOrders (): void
  /** Resolves once no webhook delivery is pending. */
  webhooksIdle (): Promise<void>
}

export interface BaseControlParts<Settings extends { autoProgress: boolean }, Secret extends keyof Settings, Status extends string, Extra extends object> {
  seed: number
  stats: SimulatorStats
  faults: FaultState
  dispatcher: WebhookDispatcher
  /** The live object the upstream reads its settings from. */
  settings: Settings
  settingsSchema: z.ZodObject
  secretSettings: readonly Secret[]
  book: Pick<TimedOrderBook<unknown, Status>, 'counts' | 'resumeAll' | 'pauseAll' | 'clear'>
  /** Every status, for the counts in the stats. */
  statuses: readonly Status[]
  /** Counters of this upstream's own, shown beside the common ones. */
  extraStats?: () => Extra
  /** Zeroes them with the common ones. */
  onStatsReset?: () => void
}

export function createBaseControl<Settings extends { autoProgress: boolean }, Secret extends keyof Settings, Status extends string, Extra extends object = object> (
  parts: BaseControlParts<Settings, Secret, Status, Extra>
): BaseControl<Settings, PublicSettings<Settings, Secret>, StatsView<Status> & Extra> {
  const { stats, faults, dispatcher, settings, book } = parts
  const publicSettings = (): PublicSettings<Settings, Secret> => {
    const shown = { ...settings } as Record<string, unknown>
    for (const secret of parts.secretSettings) {
      const name = String(secret)
      shown[`${name}Set`] = shown[name] !== null && shown[name] !== undefined
      delete shown[name]
    }
    return shown as PublicSettings<Settings, Secret>
  }
  return {
    seed: parts.seed,
    stats: () => {
      const orders = book.counts(parts.statuses)
      return { ...stats.toJSON({ ordersByStatus: orders.byStatus, ordersTotal: orders.total, webhooksPending: dispatcher.pending }), ...parts.extraStats?.() } as StatsView<Status> & Extra
    },
    resetStats: () => {
      stats.reset()
      parts.onStatsReset?.()
    },
    faults: () => faults.toJSON(),
    setFaults: (patch) => {
      faults.update(patch)
      return faults.toJSON()
    },
    clearFaults: () => {
      faults.clear()
      return faults.toJSON()
    },
    settings: publicSettings,
    updateSettings: (patch) => {
      // Delay changes apply from each order's next step; switching auto-progress acts at once.
      Object.assign(settings, patch)
      if (patch.autoProgress === true) book.resumeAll()
      if (patch.autoProgress === false) book.pauseAll()
      return publicSettings()
    },
    settingsPatchSchema: patchSchemaOf(parts.settingsSchema) as z.ZodType<Partial<Settings>>,
    clearOrders: () => book.clear(),
    webhooksIdle: () => dispatcher.whenIdle()
  }
}
