import type { ProviderModule } from '../provider-module.js'
import { gamesoSimulator } from './simulator/personality.js'

export const gamesoProvider = {
  name: 'gameso',
  displayName: 'GameSO',
  simulator: gamesoSimulator
} as const satisfies ProviderModule
