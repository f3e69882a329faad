import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { ConfigError, loadConfig } from '../config.js'
import { createDatabase } from '../db/database.js'
import { resolveDatabase } from '../db/resolve-database.js'
import type { Provider } from '../domain/order.js'
import { loggerOptions } from '../logger.js'
import { providerNames, providers } from '../providers/index.js'
import { replayInbox, REPLAYABLE_OUTCOMES, type ReplayableOutcome } from '../services/inbox-replay.js'
import { OrderSync } from '../services/order-sync.js'
import { inboxReplayer } from '../services/webhook-ingest.js'

const USAGE = `usage: npm run inbox:replay -- [--outcome ${REPLAYABLE_OUTCOMES.join('|')}] [--since <ISO-8601 time>] [--provider ${providerNames.join('|')}] [--dry-run]
  Re-applies stored webhook deliveries through the live ingestion path (default --outcome invalid).`

class UsageError extends Error {}

interface ReplayArguments {
  outcome: ReplayableOutcome
  provider: Provider | undefined
  since: Date | undefined
  dryRun: boolean
}

function parseArguments (argv: string[]): ReplayArguments {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        outcome: { type: 'string', default: 'invalid' },
        since: { type: 'string' },
        provider: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false }
      }
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (parsed.help) throw new UsageError('')
  const outcome = REPLAYABLE_OUTCOMES.find((candidate) => candidate === parsed.outcome)
  if (!outcome) throw new UsageError(`--outcome must be one of ${REPLAYABLE_OUTCOMES.join(', ')} (got "${parsed.outcome}")`)
  const provider = parsed.provider === undefined ? undefined : providerNames.find((candidate) => candidate === parsed.provider)
  if (parsed.provider !== undefined && !provider) throw new UsageError(`--provider must be one of ${providerNames.join(', ')} (got "${parsed.provider}")`)
  const since = parsed.since === undefined ? undefined : new Date(parsed.since)
  if (since !== undefined && Number.isNaN(since.getTime())) throw new UsageError(`--since must be an ISO-8601 time such as 2026-11-27T00:00:00Z (got "${parsed.since}")`)
  return { outcome, provider, since, dryRun: parsed['dry-run'] }
}

/** `npm run inbox:replay`: re-applies stored inbox rows after a fix (SPEC §3). */
async function main () {
  const args = parseArguments(process.argv.slice(2))
  const loaded = loadConfig()
  const log = pino(loggerOptions(loaded))
  const { config, embedded } = await resolveDatabase(loaded, log)
  const db = createDatabase(config.databaseUrl, { poolSize: 2, applicationName: 'order-mirror-inbox-replay' })
  try {
    const sync = new OrderSync(db, config.reconcile.staleAfterMs, { batching: config.mergeBatching })
    const filter = { outcome: args.outcome, ...(args.provider ? { provider: args.provider } : {}), ...(args.since ? { since: args.since } : {}) }
    const replayers = Object.fromEntries(providers.map((provider) => [provider.name, inboxReplayer(sync, provider)]))
    const summary = await replayInbox(db, replayers, filter, log, { dryRun: args.dryRun })
    log.info({ ...filter, dryRun: args.dryRun, ...summary }, args.dryRun ? 'inbox replay dry run finished' : 'inbox replay finished')
  } finally {
    await db.close()
    await embedded?.stop()
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(error.message ? `inbox:replay: ${error.message}\n${USAGE}\n` : `${USAGE}\n`)
    process.exit(error.message ? 2 : 0)
  }
  const text = error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))
  process.stderr.write(`inbox:replay failed: ${text}\n`)
  process.exit(1)
})
