// When a failed merchant-webhook delivery is tried again (SPEC §2.4): exponential backoff from the
// endpoint's retry_delay, at most max_retries retries after the first attempt, a Retry-After the
// receiver sent honoured when it asks for longer, and everything capped.

export interface RetryPolicy {
  /** Seconds before the first retry; doubled for each one after. */
  retryDelaySeconds: number
  maxRetries: number
  /** MERCHANT_WEBHOOK_MAX_BACKOFF_SECONDS */
  maxBackoffSeconds: number
}

/**
 * After the failed attempt number `attempt` (1 = the first, counted from the last manual retry):
 * null when the retries are used up, else how long to wait, in milliseconds.
 */
export function retryDelayMs (policy: RetryPolicy, attempt: number, retryAfterMs: number | null): number | null {
  if (attempt > policy.maxRetries) return null
  const capMs = policy.maxBackoffSeconds * 1000
  const backoffMs = Math.min(capMs, policy.retryDelaySeconds * 1000 * 2 ** (attempt - 1))
  return retryAfterMs === null ? backoffMs : Math.max(backoffMs, Math.min(retryAfterMs, capMs))
}
