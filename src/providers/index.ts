import { gamesoProvider } from './gameso/index.js'
import { midasbuyProvider } from './midasbuy/index.js'

/** Every upstream the codebase knows, in a fixed order: the first is the simulator's default. */
export const providers = [gamesoProvider, midasbuyProvider] as const

export type ProviderName = typeof providers[number]['name']

/** The registry's names, in its order: what a `provider` filter or option accepts. */
export const providerNames: readonly ProviderName[] = providers.map(({ name }) => name)
