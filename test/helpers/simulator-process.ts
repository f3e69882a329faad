import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SIMULATOR_ENTRY = fileURLToPath(new URL('../../dist/simulator/cli.js', import.meta.url))
const LISTENING = /simulator listening on (http:\/\/\S+)/

export interface SimulatorProcess {
  url: string
  apiKey: string
  child: ChildProcess
  output (): string
  /** Calls the simulator's control API (/_control/…) and returns its JSON answer. */
  control<T = unknown> (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>
  stop (): Promise<void>
}

/**
 * Starts the built GameSO simulator CLI (dist/simulator/cli.js) as a real process on a free
 * port and waits for its "listening" line. `env` takes SIMULATOR_* variables (see its cli.ts).
 */
export async function startSimulatorProcess (env: Record<string, string>, options: { readyTimeoutMs?: number } = {}): Promise<SimulatorProcess> {
  const apiKey = env.SIMULATOR_API_KEY ?? 'sim_api_key'
  const child = spawn(process.execPath, [SIMULATOR_ENTRY], {
    env: { PATH: process.env.PATH ?? '', SIMULATOR_PORT: '0', SIMULATOR_LOG_LEVEL: 'warn', ...env, SIMULATOR_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()) })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`simulator not listening in time:\n${output}`))
    }, options.readyTimeoutMs ?? 15_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = LISTENING.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`simulator exited (${String(code)}) before listening:\n${output}`))
    })
  })
  return {
    url,
    apiKey,
    child,
    output: () => output,
    async control<T> (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const response = await fetch(`${url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      })
      if (!response.ok) throw new Error(`simulator ${method} ${path} answered ${response.status}: ${await response.text()}`)
      return await response.json() as T
    },
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}
