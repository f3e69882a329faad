import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/cli/free-port.js'
import { FORCED_BATCH_LOG_VARIABLE } from './forced-batching.js'

export { freePort }

const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
const FORCED_BATCHING_PRELOAD = fileURLToPath(new URL('./forced-batching-preload.ts', import.meta.url))

/** In the `batched` test project, the service's batcher is patched and merges one transaction at a time. */
function forcedBatching (): { args: string[], env: Record<string, string> } {
  const log = process.env[FORCED_BATCH_LOG_VARIABLE]
  if (log === undefined) return { args: [], env: {} }
  return { args: ['--import', 'tsx', '--import', FORCED_BATCHING_PRELOAD], env: { [FORCED_BATCH_LOG_VARIABLE]: log, MERGE_BATCH_CONCURRENCY: '1' } }
}

export interface ServiceProcess {
  url: string
  port: number
  child: ChildProcess
  /** Everything the process wrote, for assertions and for debugging a failed test. */
  output (): string
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stop (signal?: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Starts the built service (dist/server.js) as a real process and waits for /health/ready. Event-loop
 * shedding is off unless `env` turns it on: on the shared test machine a stall is the machine's, not the service's.
 * `cwd` is where it runs, which is where its default `./.data` and `.env` are looked for.
 */
export async function startService (env: Record<string, string>, options: { readyTimeoutMs?: number, cwd?: string } = {}): Promise<ServiceProcess> {
  const port = Number(env.PORT ?? await freePort())
  const forced = forcedBatching()
  const child = spawn(process.execPath, [...forced.args, SERVER_ENTRY], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0', ...forced.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {})
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000)
  let ended = false
  exited.then(() => { ended = true }, () => {})
  for (;;) {
    if (ended) throw new Error(`service exited before it was ready:\n${output}`)
    try {
      const response = await fetch(`${url}/health/ready`)
      if (response.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`service not ready in time:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    port,
    child,
    output: () => output,
    exited,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (!ended) child.kill(signal)
      return exited
    }
  }
}
