// Loaded with --import into a service process started by the tests while batching is forced
// (see forced-batching.ts): patches the built service's own batcher before the app starts. The
// built module is the one dist/server.js imports, so the patch reaches the running app.
import { FORCED_BATCH_LOG_VARIABLE, forceBatching, logBatchSizes } from './forced-batching.js'

type BatcherModule = typeof import('../../src/services/merge-batcher.js')
const built = new URL('../../dist/services/merge-batcher.js', import.meta.url).href
const { MergeBatcher } = await import(built) as BatcherModule

const log = process.env[FORCED_BATCH_LOG_VARIABLE]
if (log === undefined) throw new Error(`${FORCED_BATCH_LOG_VARIABLE} is not set`)
forceBatching(MergeBatcher, logBatchSizes(log))
