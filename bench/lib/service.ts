import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startService, type ServiceProcess } from '../../test/helpers/service-process.js'
import { REPO_ROOT } from './child-process.js'

const run = promisify(execFile)

let build: Promise<void> | undefined

/** Compiles the service into dist/ once per bench process (incrementally), as `npm run build` does. */
export function buildServiceOnce (): Promise<void> {
  build ??= run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT }).then(
    () => {},
    // tsc reports compile errors on stdout, which the bare "Command failed" message leaves out.
    (error: Error & { stdout?: string }) => { throw new Error(`building the service failed:\n${error.stdout ?? error.message}`, { cause: error }) }
  )
  return build
}

export interface ServiceOptions {
  /** Connection string of the database the service uses. */
  databaseUrl: string
  /** More environment for the service; wins over the defaults below. */
  env?: Record<string, string>
  readyTimeoutMs?: number
}

export type RunningService = ServiceProcess

/**
 * Starts the built service (node dist/server.js) with only the environment given here and waits
 * for /health/ready. Logs at `warn` unless `env.LOG_LEVEL` says otherwise: the figures are about
 * the request path, not about how fast the harness drains log lines.
 */
export async function startBuiltService (options: ServiceOptions): Promise<RunningService> {
  await buildServiceOnce()
  return startService({
    LOG_LEVEL: 'warn',
    // A developer's .env must not change the figures: the service reads .env from its working
    // directory, and dotenv reads this path instead.
    DOTENV_CONFIG_PATH: '/dev/null',
    ...options.env,
    DATABASE_URL: options.databaseUrl
  }, options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs })
}
