import { readFile } from 'node:fs/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// The shape promtool does not check: every alert documented in docs/runbook.md and linked to its
// section, and tested both ways in ops/prometheus/alerts.test.yml. promtool itself (`check rules`,
// `test rules`) runs in .ci/run.

interface AlertRule {
  alert: string
  expr: string
  labels?: { severity?: string }
  annotations?: Record<string, string>
}

interface RuleTests {
  tests: Array<{ name: string, alert_rule_test?: Array<{ alertname: string, exp_alerts?: unknown[] }> }>
}

const read = async (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8')

/** GitHub's anchor for a heading: lower case, spaces to dashes, punctuation dropped. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')

describe('ops/prometheus/alerts.yml', () => {
  let rules: AlertRule[]
  let runbookSections: Map<string, string>
  let ruleTests: RuleTests

  beforeAll(async () => {
    const file = parse(await read('ops/prometheus/alerts.yml')) as { groups: Array<{ rules: AlertRule[] }> }
    rules = file.groups.flatMap((group) => group.rules)
    const runbook = await read('docs/runbook.md')
    runbookSections = new Map(runbook.split(/^## /m).slice(1).map((section) => {
      const [heading = '', ...body] = section.split('\n')
      return [anchorOf(heading), body.join('\n')]
    }))
    ruleTests = parse(await read('ops/prometheus/alerts.test.yml')) as RuleTests
  })

  it('holds alerts, each named once', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10)
    const names = rules.map((rule) => rule.alert)
    expect(new Set(names).size).toBe(names.length)
  })

  it('gives every alert a severity, a summary, a description and a runbook link', () => {
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning)$/)
      expect(rule.annotations?.summary, rule.alert).toEqual(expect.stringMatching(/\S/))
      expect(rule.annotations?.description, rule.alert).toEqual(expect.stringMatching(/\S/))
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`)
    }
  })

  it('links every alert to a runbook section that says what it means, how to confirm it and what to do', () => {
    for (const rule of rules) {
      const section = runbookSections.get(rule.alert.toLowerCase())
      expect(section, `docs/runbook.md has no section "## ${rule.alert}"`).toBeDefined()
      expect(section).toContain('**Means.**')
      expect(section).toContain('**Confirm.**')
      expect(section).toContain('**Do.**')
    }
  })

  it('has a runbook section for no alert that does not exist', () => {
    const alerts = new Set(rules.map((rule) => rule.alert.toLowerCase()))
    expect([...runbookSections.keys()].filter((anchor) => !alerts.has(anchor))).toEqual([])
  })

  it('tests every alert firing and staying quiet', () => {
    const cases = ruleTests.tests.flatMap((test) => test.alert_rule_test ?? [])
    for (const rule of rules) {
      const mine = cases.filter((entry) => entry.alertname === rule.alert)
      expect(mine.some((entry) => (entry.exp_alerts ?? []).length > 0), `${rule.alert} never fires in alerts.test.yml`).toBe(true)
      expect(mine.some((entry) => (entry.exp_alerts ?? []).length === 0), `${rule.alert} is never quiet in alerts.test.yml`).toBe(true)
    }
  })
})
