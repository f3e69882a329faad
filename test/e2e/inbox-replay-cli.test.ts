import { execFile } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { gamesoOrder, webhookBody } from '../helpers/gameso-webhooks.js'
import { inboxRow, storedEarlier } from '../helpers/inbox.js'

const run = promisify(execFile)
const REPLAY_CLI = fileURLToPath(new URL('../../dist/cli/inbox-replay.js', import.meta.url))

describe('npm run inbox:replay (the built CLI as a process)', () => {
  let database: TestDatabase

  beforeAll(async () => { database = await createTestDatabase() })
  afterAll(async () => { await database.drop() })

  const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: database.url, LOG_LEVEL: 'info' })
  // Outside the repository, so a developer's .env cannot point the CLI at another database.
  const cwd = os.tmpdir()

  it('replays invalid rows received since a time, and only those', async () => {
    const old = await storedEarlier(database.db, webhookBody(gamesoOrder('ref-cli-old', 'pending', '2026-08-01T00:00:00.000Z')), 'invalid', 'ref-cli-old')
    await database.db.pool.query("UPDATE webhook_inbox SET received_at = now() - interval '3 days' WHERE id = $1", [old])
    const recent = await storedEarlier(database.db, webhookBody(gamesoOrder('ref-cli-new', 'pending', '2026-08-01T00:00:00.000Z')), 'invalid', 'ref-cli-new')
    const since = new Date(Date.now() - 86_400_000).toISOString()

    const { stdout } = await run(process.execPath, [REPLAY_CLI, '--outcome', 'invalid', '--since', since], { env: env(), cwd })
    const summary = stdout.trim().split('\n').map((line) => JSON.parse(line)).find((line) => line.msg === 'inbox replay finished')
    expect(summary).toMatchObject({ outcome: 'invalid', outcomes: { applied: 1 } })
    expect(await inboxRow(database.db, recent)).toMatchObject({ outcome: 'applied', replay_count: 1 })
    expect(await inboxRow(database.db, old)).toMatchObject({ outcome: 'invalid', replay_count: 0 })
  })

  it.each([
    [['--outcome', 'applied'], /--outcome must be one of invalid, ignored, stale/],
    [['--since', 'yesterday'], /--since must be an ISO-8601 time/],
    [['--provider', 'steam'], /--provider must be one of gameso, midasbuy/],
    [['--colour', 'blue'], /Unknown option '--colour'/]
  ])('refuses %j with exit code 2 and the usage', async (args, message) => {
    const failure = await run(process.execPath, [REPLAY_CLI, ...args], { env: env(), cwd }).then(() => null, (error: { code: number, stderr: string }) => error)
    expect(failure?.code).toBe(2)
    expect(failure?.stderr).toMatch(message)
    expect(failure?.stderr).toContain('usage: npm run inbox:replay')
  })
})
