import { defineConfig } from 'vitest/config'

/** The proofs that must also hold with every burst of deliveries merged in one batch. */
const BATCHING_PROOFS = [
  'test/integration/merge-property.test.ts',
  'test/integration/webhooks.test.ts',
  'test/integration/order-sync.test.ts',
  'test/e2e/webhook-sigkill.test.ts'
]

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Every file gets its own database, so files run in parallel; two workers fit two cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'batched', include: BATCHING_PROOFS, setupFiles: ['./test/setup/force-merge-batching.ts'] } }
    ]
  }
})
