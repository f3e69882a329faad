/**
 * Cancellable sleeps for held-back responses: closing the simulator wakes them all at once, so a
 * large slowMs never holds up shutdown.
 */
export class Sleeper {
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>()

  sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer)
        resolve()
      }, ms)
      this.sleeping.set(timer, resolve)
    })
  }

  wakeAll (): void {
    for (const [timer, wake] of this.sleeping) {
      clearTimeout(timer)
      wake()
    }
    this.sleeping.clear()
  }
}
