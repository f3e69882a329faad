import { performance } from 'node:perf_hooks'

/** What one committed (or failed) batch was, for metrics and logs. */
export interface BatchReport {
  size: number
  /** From the batch's dispatch to its commit (or failure), lock waits included. */
  seconds: number
  /** Set when the batch's transaction failed; its items were then retried alone if `retryAlone` allowed. */
  error?: unknown
}

export interface MergeBatcherOptions<Item> {
  /** Most items merged in one transaction. */
  maxBatchSize: number
  /** Most transactions in flight at once; everything that arrives meanwhile waits and joins the next batch. */
  maxConcurrentBatches: number
  /** Items with equal keys never share a batch (the later one goes into the next); null: no constraint. */
  exclusiveKey: (item: Item) => string | null
  /** Whether the items of a batch that failed with this error are worth trying one at a time. */
  retryAlone: (error: unknown) => boolean
  onBatch?: (report: BatchReport) => void
}

interface Waiting<Item, Result> {
  item: Item
  resolve: (result: Result) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: items submitted while every transaction slot is busy wait in a queue, and the
 * next free slot takes all of them (up to maxBatchSize) into one transaction. An item on an idle
 * queue goes out at the end of the current turn of the event loop, with what else arrived in that
 * turn — no timer holds it. Each item is answered only once its batch has committed.
 *
 * A batch whose transaction fails is retried item by item, so one bad item costs the others one
 * retry and nothing more, and each is answered on its own merits. An error the items could not
 * have caused (the database is unreachable) fails the whole batch at once instead.
 *
 * Written here rather than taken from DataLoader: DataLoader dispatches a batch per tick whatever
 * is in flight and has no bound on batches in flight, which is the opposite trigger (group commit
 * collects precisely while a commit is in flight), and it cannot keep conflicting items apart.
 */
export class MergeBatcher<Item, Result> {
  private readonly queue: Array<Waiting<Item, Result>> = []
  private inFlight = 0
  private collecting = false

  constructor (
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: MergeBatcherOptions<Item>
  ) {}

  /** Items waiting for a batch (not counting those in flight). */
  get waiting (): number {
    return this.queue.length
  }

  submit (item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves when the items arriving in the current turn of the event loop have been submitted. */
  protected collect (): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve))
  }

  private schedule (): void {
    if (this.collecting || this.queue.length === 0 || this.inFlight >= this.options.maxConcurrentBatches) return
    this.collecting = true
    this.collect().then(() => {
      this.collecting = false
      this.dispatch()
    }, () => {})
  }

  private dispatch (): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxConcurrentBatches) {
      const batch = this.take()
      this.inFlight++
      // commit settles every item of the batch itself and never rejects.
      this.commit(batch).finally(() => {
        this.inFlight--
        this.schedule()
      }).catch(() => {})
    }
  }

  private take (): Array<Waiting<Item, Result>> {
    const batch: Array<Waiting<Item, Result>> = []
    const keys = new Set<string>()
    const deferred: Array<Waiting<Item, Result>> = []
    while (this.queue.length > 0 && batch.length < this.options.maxBatchSize) {
      const next = this.queue.shift()!
      const key = this.options.exclusiveKey(next.item)
      if (key !== null && keys.has(key)) {
        deferred.push(next)
        continue
      }
      if (key !== null) keys.add(key)
      batch.push(next)
    }
    this.queue.unshift(...deferred)
    return batch
  }

  private async commit (batch: Array<Waiting<Item, Result>>): Promise<void> {
    try {
      const results = await this.timed(batch.map((waiting) => waiting.item))
      batch.forEach((waiting, index) => { waiting.resolve(results[index]!) })
    } catch (error) {
      if (batch.length === 1 || !this.options.retryAlone(error)) {
        for (const waiting of batch) waiting.reject(error)
        return
      }
      for (const waiting of batch) {
        try {
          const [result] = await this.timed([waiting.item])
          waiting.resolve(result!)
        } catch (alone) {
          waiting.reject(alone)
        }
      }
    }
  }

  private async timed (items: Item[]): Promise<Result[]> {
    const started = performance.now()
    const report = (error?: unknown) => this.options.onBatch?.({
      size: items.length,
      seconds: (performance.now() - started) / 1000,
      ...(error === undefined ? {} : { error })
    })
    try {
      const results = await this.run(items)
      report()
      return results
    } catch (error) {
      report(error)
      throw error
    }
  }
}
