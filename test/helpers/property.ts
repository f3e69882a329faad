import type { Parameters } from 'fast-check'

/** The suite's fixed seed: every run explores the same inputs. Set FC_SEED to explore others. */
const DEFAULT_SEED = 20261201

/** The seed of every random input of the suite (test/setup/seed.ts makes it fast-check's default too). */
export const SUITE_SEED = process.env.FC_SEED === undefined || process.env.FC_SEED === '' ? DEFAULT_SEED : Number(process.env.FC_SEED)
if (!Number.isSafeInteger(SUITE_SEED)) throw new Error(`FC_SEED must be an integer (got "${process.env.FC_SEED ?? ''}")`)

/**
 * fast-check parameters for a property: seeded (FC_SEED, else the suite's fixed seed) so a run is
 * reproducible, with fast-check's failure report naming the seed and the shrunk counterexample,
 * and a bounded number of runs (FC_RUNS_FACTOR scales them up for a longer hunt).
 */
export function propertyParameters<T> (numRuns: number): Parameters<T> {
  const factor = process.env.FC_RUNS_FACTOR === undefined ? 1 : Number(process.env.FC_RUNS_FACTOR)
  return { seed: SUITE_SEED, numRuns: Math.max(1, Math.round(numRuns * factor)), endOnFailure: true }
}
