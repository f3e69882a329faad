import type { z } from 'zod'
import type { FaultState, faultsPatchSchema } from './faults.js'
import { patchSchemaOf } from './patch-schema.js'
import type { SimulatorStats, StatsView } from './stats.js'
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

export interface BaseControlParts<Settings extends object, Secret extends keyof Settings, Status extends string, Extra extends object> {
  seed: number
  stats: SimulatorStats
  faults: FaultState
  dispatcher: WebhookDispatcher
  /** The live object the upstream reads its settings from. */
  settings: Settings
  settingsSchema: z.ZodObject
  secretSettings: readonly Secret[]
  orderCounts: () => { total: number, byStatus: Readonly<Record<Status, number>> }
  /** Counters of this upstream's own, shown beside the common ones. */
  extraStats: () => Extra
  /** Acts on a settings change at once (e.g. timers stopped when auto-progress goes off). */
  settingsChanged: (patch: Partial<Settings>) => void
  clearOrders: () => void
}

export function createBaseControl<Settings extends object, Secret extends keyof Settings, Status extends string, Extra extends object> (
  parts: BaseControlParts<Settings, Secret, Status, Extra>
): BaseControl<Settings, PublicSettings<Settings, Secret>, StatsView<Status> & Extra> {
  const { stats, faults, dispatcher, settings } = parts
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
      const orders = parts.orderCounts()
      return { ...stats.toJSON({ ordersByStatus: orders.byStatus, ordersTotal: orders.total, webhooksPending: dispatcher.pending }), ...parts.extraStats() }
    },
    resetStats: () => stats.reset(),
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
      Object.assign(settings, patch)
      parts.settingsChanged(patch)
      return publicSettings()
    },
    settingsPatchSchema: patchSchemaOf(parts.settingsSchema) as z.ZodType<Partial<Settings>>,
    clearOrders: parts.clearOrders,
    webhooksIdle: () => dispatcher.whenIdle()
  }
}
