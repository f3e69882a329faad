import { gamesoOrderResponseSchema, presentGameSoOrder } from './gameso/gameso-presenter.js'
import { gamesoProvider } from './gameso/index.js'
import { midasbuyProvider } from './midasbuy/index.js'

/** Every upstream the codebase knows, in a fixed order: the first is the simulator's default. */
export const providers = [gamesoProvider, midasbuyProvider] as const

export type ProviderName = typeof providers[number]['name']

/** The registry's names, in its order: what a `provider` filter or option accepts. */
export const providerNames: readonly ProviderName[] = providers.map(({ name }) => name)

/**
 * How the merchant list (GET /v1/orders) shows an order of any provider: in GameSO's order
 * shape, the one the mirror's read API speaks (SPEC §2.2), plus its provider and currency.
 */
export const listedOrderShape = { name: gamesoProvider.displayName, schema: gamesoOrderResponseSchema, present: presentGameSoOrder }
