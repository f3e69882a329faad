import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'

/**
 * A sibling entry point of this folder (`../server`, `../simulator/cli`): the `.ts` file through
 * tsx when running from source (npm run …), the `.js` file when running from dist, so a command
 * that starts another process works either way.
 */
export function entryPoint (relative: string): { file: string, nodeArgs: string[] } {
  const here = fileURLToPath(import.meta.url)
  const typescript = here.endsWith('.ts')
  const file = path.join(path.dirname(here), `${relative}.${typescript ? 'ts' : 'js'}`)
  return { file, nodeArgs: typescript ? ['--import', 'tsx', file] : [file] }
}

/** How long one readiness probe may take: something else holding the port may accept and never answer. */
const PROBE_TIMEOUT_MS = 2000

/** Resolves once `url`/health/ready answers 200; rejects when the process exits first or the time is up. */
export async function waitUntilReady (url: string, exited: Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let ended = false
  exited.then(() => { ended = true }, () => { ended = true })
  while (Date.now() < deadline) {
    if (ended) throw new Error('the service exited before it was ready')
    const ready = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then((response) => response.ok, () => false)
    if (ready) return
    await delay(100)
  }
  throw new Error(`the service was not ready within ${Math.round(timeoutMs / 1000)} s`)
}
