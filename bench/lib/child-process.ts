import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Repository root: children run from here so `--import tsx` resolves the project's tsx. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** What a child entry sends back once: its answer, or why it could not give one. */
export type ChildReply<T> = { ok: true, value: T } | { ok: false, error: string }

export interface TsxChild<T> {
  child: ChildProcess
  /** The child's first reply. */
  reply: Promise<T>
  /** Resolves once the process has ended. */
  exited: Promise<void>
  /** Asks the child to finish (SIGTERM), then kills it if it has not ended in time. */
  stop (graceMs?: number): Promise<void>
}

/**
 * Starts `entry` (a TypeScript file) in its own Node process through tsx, sends it `message` over
 * the IPC channel and returns its first reply. Load generation and baselines run this way so they
 * never share an event loop with the harness or with each other.
 */
export function startTsxChild<T> (entry: string, message: unknown): TsxChild<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  let ended = false
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => { ended = true; resolve() })
  })
  const reply = new Promise<T>((resolve, reject) => {
    child.once('message', (raw) => {
      const answer = raw as ChildReply<T>
      if (answer.ok) resolve(answer.value)
      else reject(new Error(answer.error))
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`${entry} ended before answering (code ${code}, signal ${signal})`)))
  })
  child.send(message as object)
  return {
    child,
    reply,
    exited,
    async stop (graceMs = 5000) {
      if (ended) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { if (!ended) child.kill('SIGKILL') }, graceMs)
      await exited
      clearTimeout(timer)
    }
  }
}

/**
 * The child side: waits for the parent's message, runs `handle`, replies. A one-shot child
 * (`exitAfterReply`) ends once the reply is delivered; a long-lived one ends through
 * `onDisconnect`, which also runs when the parent disappears, so an interrupted run leaves no
 * process behind.
 */
export function serveParent<M, T> (
  handle: (message: M) => Promise<T>,
  { exitAfterReply = false, onDisconnect = () => process.exit() }: { exitAfterReply?: boolean, onDisconnect?: () => void } = {}
): void {
  const send = process.send?.bind(process)
  if (!send) throw new Error('this entry runs as a child of the bench harness (no IPC channel)')
  process.once('disconnect', onDisconnect)
  const reply = (answer: ChildReply<T>) => {
    send(answer, undefined, {}, () => { if (exitAfterReply) process.disconnect() })
  }
  process.once('message', (message) => {
    handle(message as M).then(
      (value) => reply({ ok: true, value }),
      (error: unknown) => {
        process.exitCode = 1
        reply({ ok: false, error: (error as Error).stack ?? String(error) })
      }
    )
  })
}
