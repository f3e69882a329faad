import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** The few random decisions the simulator makes, all drawn from one seeded generator. */
export interface Random {
  /** True with probability `probability` (0 never draws, so a disabled fault costs nothing). */
  chance (probability: number): boolean
  /** An integer in [min, max], both included. */
  int (min: number, max: number): number
  pick<T> (values: readonly T[]): T
  alphanumeric (length: number): string
  /** A shuffled copy that never equals the input order when it has two or more elements. */
  derange<T> (values: readonly T[]): T[]
}

function randomFrom (rng: RandomGenerator): Random {
  const int = (min: number, max: number) => uniformInt(rng, min, max)
  return {
    chance: (probability) => probability > 0 && (probability >= 1 || uniformFloat64(rng) < probability),
    int,
    pick: <T>(values: readonly T[]) => values[int(0, values.length - 1)] as T,
    alphanumeric (length) {
      let text = ''
      for (let i = 0; i < length; i++) text += ALPHANUMERIC[int(0, ALPHANUMERIC.length - 1)]
      return text
    },
    derange<T> (values: readonly T[]) {
      const shuffled = [...values]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = int(0, i)
        const swap = shuffled[i] as T
        shuffled[i] = shuffled[j] as T
        shuffled[j] = swap
      }
      // A shuffle may hand back the original order; a reorder fault that sometimes does not
      // reorder would make tests of it flaky, so rotate by one in that case.
      if (shuffled.length > 1 && shuffled.every((value, index) => value === values[index])) {
        shuffled.push(shuffled.shift() as T)
      }
      return shuffled
    }
  }
}

export interface RandomStreams {
  /** Order numbers and item outcomes: reproducible from the seed whatever the traffic. */
  orders: Random
  /** API fault decisions. */
  api: Random
  /** Webhook fault decisions and delays. */
  webhooks: Random
}

/**
 * Independent streams from one seed, so that how many API faults were drawn never changes which
 * orders fail: the same SIMULATOR_SEED gives the same order numbers and outcomes run after run.
 */
export function createRandomStreams (seed: number): RandomStreams {
  const orders = xoroshiro128plus(seed)
  const api = orders.clone()
  api.jump()
  const webhooks = api.clone()
  webhooks.jump()
  return { orders: randomFrom(orders), api: randomFrom(api), webhooks: randomFrom(webhooks) }
}
