import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The project root: this file sits in src/metrics or, compiled, in dist/metrics. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface BuildInfo {
  version: string
  commit: string
}

let version: string | undefined
let head: string | undefined

/**
 * What `order_mirror_build_info` reports. The commit is the configured one (BUILD_COMMIT, which an
 * image built without `.git` is given at build time), else the checkout's HEAD as git reads it,
 * else `unknown`: a missing git or a directory that is no checkout must never stop a start.
 * Each is read once per process: neither changes under a running service.
 */
export function buildInfo (configuredCommit: string | null): BuildInfo {
  version ??= packageVersion()
  return { version, commit: configuredCommit ?? (head ??= gitHead()) }
}

function packageVersion (): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as { version?: unknown }
    return typeof manifest.version === 'string' ? manifest.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

function gitHead (): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000
    }).trim() || 'unknown'
  } catch {
    return 'unknown'
  }
}
