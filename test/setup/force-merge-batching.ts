import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect } from 'vitest'
import { MergeBatcher } from '../../src/services/merge-batcher.js'
import { FORCED_BATCH_LOG_VARIABLE, forceBatching } from '../helpers/forced-batching.js'

// The `batched` test project: the same proofs, with every burst of deliveries merged in one batch,
// here and in every service process the tests start (test/helpers/service-process.ts). Each file
// must have merged some batch of more than one delivery, or it proved nothing about batching.

const sizes: number[] = []
forceBatching(MergeBatcher, (size) => sizes.push(size))
const childLog = path.join(os.tmpdir(), `order-mirror-forced-batches-${process.pid}-${randomBytes(4).toString('hex')}.log`)
process.env[FORCED_BATCH_LOG_VARIABLE] = childLog

afterAll(() => {
  const inChildren = existsSync(childLog) ? readFileSync(childLog, 'utf8').split('\n').filter(Boolean).map(Number) : []
  rmSync(childLog, { force: true })
  const all = [...sizes, ...inChildren]
  expect(Math.max(0, ...all), `batch sizes seen: ${all.join(', ')}`).toBeGreaterThan(1)
})
