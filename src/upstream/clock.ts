import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Time as a dependency of everything that waits or windows: the throttle's pauses, send window,
 * send-by deadlines and request timeouts read and wait through this, so tests drive time instead
 * of measuring it.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now (): number
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep (ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => { await sleep(ms, undefined, { signal }) }
}
