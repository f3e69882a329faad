import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import { deleteInboxReceivedBefore } from '../repositories/inbox-repository.js'

const DAY_MS = 86_400_000

export interface InboxRetentionOptions {
  /** Rows received longer ago than this are deleted; 0 keeps everything and the job never runs. */
  retentionDays: number
  /** Pause between runs. */
  intervalMs: number
  /** Rows removed per statement. */
  batchSize: number
}

/**
 * Deletes inbox rows past the retention period (SPEC §3). Runs once at start and then every
 * `intervalMs`; several instances may run it at once (the delete skips rows another one holds).
 * A failed run is logged and retried at the next interval: it must never disturb the service.
 */
export class InboxRetention {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private started = false
  /** Set by stop(): a run in progress finishes its current batch and goes no further. */
  private stopping = false

  constructor (private readonly db: Database, private readonly options: InboxRetentionOptions, private readonly log: FastifyBaseLogger) {}

  start (): void {
    if (this.options.retentionDays === 0 || this.started) return
    this.started = true
    this.stopping = false
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.stopping = true
    this.started = false
    clearTimeout(this.timer)
    await this.running
  }

  /** One run: deletes in batches until nothing older than the cutoff is left. Returns how many rows went. */
  async tick (now: Date = new Date()): Promise<number> {
    if (this.options.retentionDays === 0) return 0
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS)
    let deleted = 0
    for (;;) {
      const batch = await deleteInboxReceivedBefore(this.db.pool, cutoff, this.options.batchSize)
      deleted += batch
      if (batch < this.options.batchSize || this.stopping) break
    }
    if (deleted > 0) this.log.info({ deleted, cutoff, retentionDays: this.options.retentionDays }, 'inbox rows past retention deleted')
    return deleted
  }

  private schedule (delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((error: unknown) => { this.log.warn({ err: error }, 'inbox retention run failed; retrying at the next interval') })
        .finally(() => {
          this.running = undefined
          if (this.started) this.schedule(this.options.intervalMs)
        })
    }, delayMs)
    this.timer.unref()
  }
}
