import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

/**
 * End-to-end tests run the built service (dist/) as a process: build it first, incrementally,
 * and stop the run when the build fails, since the processes would otherwise run an old dist/.
 */
export default async function buildService (): Promise<void> {
  try {
    await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string, stderr?: string }
    throw new Error(`npm run build failed; the end-to-end tests would run a stale dist/:\n${stdout}${stderr}`)
  }
}
