import { appendFileSync } from 'node:fs'
import type { MergeBatcher } from '../../src/services/merge-batcher.js'

// Batching forced on, for the proofs that must also hold when deliveries share transactions.
// Production takes a batch at the end of the turn in which the first delivery arrived; forced,
// each batch is held until a whole turn of the event loop has passed without a new delivery, so
// every delivery of a burst joins it. No timer: how long it waits depends only on what is queued.

/** Where a service process started by the tests appends its batch sizes, one per line. */
export const FORCED_BATCH_LOG_VARIABLE = 'ORDER_MIRROR_TEST_FORCED_BATCH_LOG'

type BatcherClass = typeof MergeBatcher
interface Internals { waiting: number, take (): unknown[] }

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Patches the batcher class in this process; `record` sees the size of every batch taken. */
export function forceBatching (Batcher: BatcherClass, record: (size: number) => void): void {
  const prototype = Batcher.prototype as unknown as Internals & { collect (): Promise<void> }
  prototype.collect = async function (this: Internals) {
    let seen = -1
    while (seen !== this.waiting) {
      seen = this.waiting
      await turn()
    }
  }
  const take = prototype.take
  prototype.take = function (this: Internals) {
    const batch = take.call(this)
    record(batch.length)
    return batch
  }
}

/** For a service process: every batch size goes to the file the test named. */
export function logBatchSizes (file: string): (size: number) => void {
  return (size) => { appendFileSync(file, `${size}\n`) }
}
