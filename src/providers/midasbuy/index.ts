import type { ProviderModule } from '../provider-module.js'
import { midasbuySimulator } from './simulator/personality.js'

export const midasbuyProvider = {
  name: 'midasbuy',
  displayName: 'MidasBuy',
  simulator: midasbuySimulator
} as const satisfies ProviderModule
