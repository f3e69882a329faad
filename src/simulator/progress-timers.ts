/**
 * At most one pending timer per order, each moving that order to its next status. Stopping them
 * all (auto-progress switched off, or the simulator closing) leaves every order where it is.
 */
export class ProgressTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>()

  has (key: string): boolean {
    return this.timers.has(key)
  }

  /** Runs `step` after `delayMs` unless a timer is already set for `key`. */
  schedule (key: string, delayMs: number, step: () => void): void {
    if (this.timers.has(key)) return
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key)
      step()
    }, delayMs))
  }

  cancel (key: string): void {
    const timer = this.timers.get(key)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(key)
  }

  cancelAll (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }
}
