import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** The few random decisions the simulator makes, all drawn from seeded generators. */
export interface Random {
  /** True with probability `probability` (0 never draws, so a disabled fault costs nothing). */
  chance (probability: number): boolean
  /** An integer in [min, max], both included. */
  int (min: number, max: number): number
  pick<T> (values: readonly T[]): T
  alphanumeric (length: number): string
  /** `length` characters drawn from `alphabet`. */
  characters (alphabet: string, length: number): string
  /** A shuffled copy that never equals the input order when it has two or more elements. */
  derange<T> (values: readonly T[]): T[]
}

function randomFrom (rng: RandomGenerator): Random {
  const int = (min: number, max: number) => uniformInt(rng, min, max)
  const characters = (alphabet: string, length: number) => {
    let text = ''
    for (let i = 0; i < length; i++) text += alphabet[int(0, alphabet.length - 1)]
    return text
  }
  return {
    chance: (probability) => probability > 0 && (probability >= 1 || uniformFloat64(rng) < probability),
    int,
    pick: <T>(values: readonly T[]) => values[int(0, values.length - 1)] as T,
    alphanumeric: (length) => characters(ALPHANUMERIC, length),
    characters,
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

const STREAMS_PER_SET = 3

/**
 * Independent streams from one seed, so that how many API faults were drawn never changes which
 * orders fail: the same SIMULATOR_SEED gives the same order numbers and outcomes run after run.
 * Each simulated upstream takes its own set (`set` 0, 1, …), so traffic to one never shifts the
 * draws of another; set 0 is the one a single-upstream simulator always drew from.
 */
export function createRandomStreams (seed: number, set = 0): RandomStreams {
  const orders = xoroshiro128plus(seed)
  for (let jump = 0; jump < set * STREAMS_PER_SET; jump++) orders.jump()
  const api = orders.clone()
  api.jump()
  const webhooks = api.clone()
  webhooks.jump()
  return { orders: randomFrom(orders), api: randomFrom(api), webhooks: randomFrom(webhooks) }
}
