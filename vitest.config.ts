import { defineConfig } from 'vitest/config'

// Projects, each with only the setup it needs (npm test runs them all):
//   unit         no database, no build: pure logic and in-process HTTP (app.inject, the simulator)
//   integration  a real PostgreSQL: each file clones a template the setup migrates once
//   e2e          the built service, simulator and CLIs as processes; a failed build stops the run
//   batched      the proofs that must also hold with every burst of deliveries merged in one
//                batch, run again with batching forced; one of them is end-to-end, so it builds too
const DATABASE = './test/setup/database.ts'
const BUILD = './test/setup/build.ts'

/**
 * The proofs that must also hold with every burst of deliveries merged in one batch. The one
 * 50-delivery burst test is in webhooks.test.ts (order-sync.test.ts no longer has one, so it would
 * merge no batch of more than one and prove nothing about batching).
 */
const BATCHING_PROOFS = [
  'test/integration/merge-property.test.ts',
  'test/integration/webhooks.test.ts',
  'test/e2e/webhook-sigkill.test.ts'
]

export default defineConfig({
  test: {
    // Every file gets its own database, so files run in parallel; two workers fit two cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    setupFiles: ['./test/setup/seed.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: [DATABASE] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: [DATABASE, BUILD] } },
      { extends: true, test: { name: 'batched', include: BATCHING_PROOFS, globalSetup: [DATABASE, BUILD], setupFiles: ['./test/setup/seed.ts', './test/setup/force-merge-batching.ts'] } }
    ]
  }
})
