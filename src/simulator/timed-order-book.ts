import { ProgressTimers } from './progress-timers.js'

/**
 * A simulated upstream's orders, in memory by reference (O(1) lookups), each with at most one
 * pending timer that moves it to its next status. The upstream says what its orders look like,
 * how long each step waits and what a step does.
 */
export abstract class TimedOrderBook<Order, Status extends string> {
  protected readonly orders = new Map<string, Order>()
  private readonly timers = new ProgressTimers()

  constructor (private readonly onChange: (order: Order) => void) {}

  protected abstract referenceOf (order: Order): string
  protected abstract statusOf (order: Order): Status
  /** The wait before the order moves on by itself; undefined when it does not (final, or paused). */
  protected abstract nextStepDelayMs (order: Order): number | undefined
  /** Makes the order's next transition; false when it has none. */
  protected abstract transition (order: Order): boolean

  get size (): number {
    return this.orders.size
  }

  get (reference: string): Order | undefined {
    return this.orders.get(reference)
  }

  values (): IterableIterator<Order> {
    return this.orders.values()
  }

  /** Orders per status, every listed status present (zeros too), for the stats. */
  counts (statuses: readonly Status[]): { total: number, byStatus: Record<Status, number> } {
    const byStatus = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<Status, number>
    for (const order of this.orders.values()) byStatus[this.statusOf(order)]++
    return { total: this.orders.size, byStatus }
  }

  list (status?: Status): Order[] {
    const found: Order[] = []
    for (const order of this.orders.values()) if (status === undefined || this.statusOf(order) === status) found.push(order)
    return found
  }

  /** Puts every moving order back on the timer, e.g. after auto-progress was switched on. */
  resumeAll (): void {
    for (const order of this.orders.values()) this.schedule(order)
  }

  /** Stops every timer; orders stay where they are (auto-progress switched off, or closing). */
  pauseAll (): void {
    this.timers.cancelAll()
  }

  clear (): void {
    this.pauseAll()
    this.orders.clear()
  }

  /** Stores a new order, announces it and puts it on its timer. */
  protected add (order: Order): void {
    this.orders.set(this.referenceOf(order), order)
    this.onChange(order)
    this.schedule(order)
  }

  /** The next transition now (timer or control API), announced, then back on the timer. */
  protected step (order: Order): void {
    this.timers.cancel(this.referenceOf(order))
    if (this.transition(order)) this.changed(order)
  }

  /** After a change: announce it and put the order back on its timer. */
  protected changed (order: Order): void {
    this.timers.cancel(this.referenceOf(order))
    this.onChange(order)
    this.schedule(order)
  }

  private schedule (order: Order): void {
    const delay = this.nextStepDelayMs(order)
    if (delay !== undefined) this.timers.schedule(this.referenceOf(order), delay, () => this.step(order))
  }
}
