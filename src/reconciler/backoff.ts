export interface BackoffPolicy {
  /** Delay before the first retry; doubles with every further attempt. */
  baseMs: number
  /** No delay exceeds this (RECONCILE_MAX_BACKOFF_MS). */
  maxMs: number
}

/**
 * Delay before the next poll of an order after `attempt` polls that did not bring it to a final
 * state (attempt ≥ 1): exponential, capped, with "equal jitter" — half the step fixed, half random
 * — so the orders of one burst spread out instead of polling GameSO in lockstep, while no order is
 * polled sooner than half its step.
 */
export function pollBackoffMs (attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1)
  // 2 ** 60 already dwarfs any cap; bounding the exponent keeps the product finite.
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 60))
  return Math.round(step / 2 + random() * (step / 2))
}
