import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildInfo } from '../../src/metrics/build-info.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** buildInfo in a fresh process (it reads git once per process), with the PATH given. */
function buildInfoInProcess (path: string): { version: string, commit: string } {
  const script = "import('./src/metrics/build-info.ts').then((m) => process.stdout.write(JSON.stringify(m.buildInfo(null))))"
  const output = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { PATH: path }, encoding: 'utf8' })
  return JSON.parse(output) as { version: string, commit: string }
}

describe('build info', () => {
  it('reports the configured commit and the package version', () => {
    expect(buildInfo('v1.2.3-rc.1')).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), commit: 'v1.2.3-rc.1' })
  })

  it('reads the commit from git when none is configured', () => {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    expect(buildInfoInProcess(process.env.PATH ?? '')).toMatchObject({ commit: head })
  })

  it('reports commit "unknown", and still starts, where there is no git', () => {
    expect(buildInfoInProcess('/nonexistent')).toMatchObject({ commit: 'unknown', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
  })
})
