// Writes the pgbench scripts of the database-alone probe (bench/README.md) into a directory: the
// raw single-row upsert, and om_merge_batch merging 1 or 20 new orders of 2 items each, with
// their inbox rows, in one call; and, for psql, the backend-CPU probe of 300 such 20-order calls.
//   npx tsx bench/pgbench/make-scripts.ts [dir]      (default: $TMPDIR/order-mirror-pgbench)
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { backendCpuScript, mergeBatchScript, RAW_UPSERT_SCRIPT } from './scripts.js'

const DIR = process.argv[2] ?? path.join(os.tmpdir(), 'order-mirror-pgbench')
mkdirSync(DIR, { recursive: true })
writeFileSync(path.join(DIR, 'raw-upsert.sql'), RAW_UPSERT_SCRIPT)
for (const size of [1, 20]) writeFileSync(path.join(DIR, `merge-batch-${size}.sql`), mergeBatchScript(size))
writeFileSync(path.join(DIR, 'merge-batch-20-cpu.psql'), backendCpuScript(20, 300))
process.stdout.write(`${DIR}\n`)
