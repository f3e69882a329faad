import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

/** Shared by every project that runs this setup in one vitest run (vitest loads it once per project). */
const BUILD = Symbol.for('order-mirror.test.build')
const shared = globalThis as typeof globalThis & { [BUILD]?: Promise<void> }

async function build (): Promise<void> {
  try {
    await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string, stderr?: string }
    throw new Error(`npm run build failed; the end-to-end tests would run a stale dist/:\n${stdout}${stderr}`)
  }
}

/**
 * End-to-end tests run the built service (dist/) as a process: build it first, incrementally,
 * once per run, and stop the run when the build fails, since the processes would otherwise run
 * an old dist/.
 */
export default async function buildService (): Promise<void> {
  shared[BUILD] ??= build()
  await shared[BUILD]
}
