// Checks that every query of ops/grafana/order-mirror.json is valid PromQL, with promtool: the
// queries become recording rules in a temporary rules file (Grafana's variables replaced by
// values Prometheus accepts) and `promtool check rules` parses them. Run by .ci/run; which metric
// names the queries use is checked against a live service by test/e2e/ops-metric-names.test.ts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dashboard = JSON.parse(readFileSync(new URL('order-mirror.json', import.meta.url), 'utf8'))

/** Grafana's built-in and the dashboard's own variables, as a query would see them. */
const substitute = (expr) => expr
  .replaceAll('$__rate_interval', '5m')
  .replaceAll('$__interval', '1m')
  .replace(/\$\{?(instance|provider)\}?/g, '.*')

const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })))
if (queries.length === 0) throw new Error('the dashboard has no queries')

// JSON is YAML: the rules file needs no YAML library.
const rules = {
  groups: [{
    name: 'dashboard-queries',
    rules: queries.map(({ expr }, index) => ({ record: `dashboard:query_${index}`, expr: substitute(expr) }))
  }]
}
const folder = mkdtempSync(join(tmpdir(), 'dashboard-queries-'))
try {
  const file = join(folder, 'queries.yml')
  writeFileSync(file, JSON.stringify(rules, null, 2))
  execFileSync('promtool', ['check', 'rules', file], { stdio: 'inherit' })
  console.log(`${queries.length} dashboard queries are valid PromQL`)
} catch (error) {
  console.error('a dashboard query is not valid PromQL (see above); panels:', queries.map(({ panel }) => panel).join(', '))
  throw error
} finally {
  rmSync(folder, { recursive: true, force: true })
}
