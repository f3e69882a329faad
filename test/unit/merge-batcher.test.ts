import { describe, expect, it } from 'vitest'
import { MergeBatcher, type BatchReport, type MergeBatcherOptions } from '../../src/services/merge-batcher.js'

/** One turn of the event loop: what the batcher waits for before it takes a batch. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

interface Call { items: string[], finish: (error?: Error) => void }

/** A batcher over a transaction the test completes by hand, so every step is in the test's order. */
function controlled (options: Partial<MergeBatcherOptions<string>> = {}) {
  const calls: Call[] = []
  const reports: BatchReport[] = []
  const batcher = new MergeBatcher<string, string>((items) => new Promise<string[]>((resolve, reject) => {
    calls.push({ items, finish: (error) => { if (error) reject(error); else resolve(items.map((item) => `done:${item}`)) } })
  }), {
    maxBatchSize: 100,
    maxConcurrentBatches: 1,
    exclusiveKey: () => null,
    retryAlone: () => true,
    onBatch: (report) => reports.push(report),
    ...options
  })
  const answers: Record<string, string> = {}
  const submit = (item: string) => batcher.submit(item).then((result) => { answers[item] = result }, (error: Error) => { answers[item] = `failed:${error.message}` })
  return { calls, reports, answers, submit }
}

describe('MergeBatcher (group commit)', () => {
  it('sends a lone item at the end of the current turn, alone, and answers it once its batch has committed', async () => {
    const { calls, answers, submit } = controlled()
    const done = submit('a')
    expect(calls).toHaveLength(0)
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['a']])
    expect(answers).toEqual({})
    calls[0]!.finish()
    await done
    expect(answers).toEqual({ a: 'done:a' })
  })

  it('merges what arrives while a batch is in flight into the next one', async () => {
    const { calls, answers, submit } = controlled()
    const first = submit('a')
    await turn()
    const rest = ['b', 'c', 'd'].map(submit)
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['a']])
    calls[0]!.finish()
    await first
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['a'], ['b', 'c', 'd']])
    expect(Object.keys(answers)).toEqual(['a'])
    calls[1]!.finish()
    await Promise.all(rest)
    expect(answers).toEqual({ a: 'done:a', b: 'done:b', c: 'done:c', d: 'done:d' })
  })

  it('keeps batches within maxBatchSize and transactions within maxConcurrentBatches', async () => {
    const { calls, submit } = controlled({ maxBatchSize: 2, maxConcurrentBatches: 2 })
    const all = ['a', 'b', 'c', 'd', 'e', 'f'].map(submit)
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['a', 'b'], ['c', 'd']])
    calls[0]!.finish()
    await turn()
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']])
    calls[1]!.finish()
    calls[2]!.finish()
    await Promise.all(all)
  })

  it('never puts two items with the same key in one batch; the later one goes first into the next', async () => {
    const { calls, submit } = controlled({ exclusiveKey: (item) => item.split(':')[0] ?? null })
    const all = ['x:1', 'y:1', 'x:2', 'z:1', 'x:3'].map(submit)
    await turn()
    expect(calls.map((call) => call.items)).toEqual([['x:1', 'y:1', 'z:1']])
    calls[0]!.finish()
    await turn()
    await turn()
    expect(calls[1]!.items).toEqual(['x:2'])
    calls[1]!.finish()
    await turn()
    await turn()
    expect(calls[2]!.items).toEqual(['x:3'])
    calls[2]!.finish()
    await Promise.all(all)
  })

  it('retries a failed batch item by item, so one bad item fails alone and the others are answered', async () => {
    const { calls, reports, answers, submit } = controlled()
    const all = ['a', 'poison', 'c'].map(submit)
    await turn()
    calls[0]!.finish(new Error('invalid input'))
    for (const [retry, item] of ['a', 'poison', 'c'].entries()) {
      while (calls.length < retry + 2) await turn()
      calls[retry + 1]!.finish(item === 'poison' ? new Error('invalid input') : undefined)
    }
    await Promise.all(all)
    expect(calls.map((call) => call.items)).toEqual([['a', 'poison', 'c'], ['a'], ['poison'], ['c']])
    expect(answers).toEqual({ a: 'done:a', poison: 'failed:invalid input', c: 'done:c' })
    expect(reports.map((report) => [report.size, report.error === undefined])).toEqual([[3, false], [1, true], [1, false], [1, true]])
  })

  it('fails the whole batch at once when the error is not one a single item could cause', async () => {
    const { calls, answers, submit } = controlled({ retryAlone: (error) => (error as Error).message !== 'database unreachable' })
    const all = ['a', 'b'].map(submit)
    await turn()
    calls[0]!.finish(new Error('database unreachable'))
    await Promise.all(all)
    expect(calls).toHaveLength(1)
    expect(answers).toEqual({ a: 'failed:database unreachable', b: 'failed:database unreachable' })
  })
})
