import { access, readFile } from 'node:fs/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// What can be checked here of the dashboard and the ops stack without Grafana or Docker: the
// dashboard's shape Grafana imports (datasource variable, ids, layout), and that every file the
// compose stack mounts exists. Its queries are checked as PromQL by promtool (.ci/run) and their
// metric names against a live service (test/e2e/ops-metric-names.test.ts).

interface Target { datasource?: { uid?: string }, expr?: string }
interface Panel { id: number, type: string, title: string, datasource?: { uid?: string }, gridPos: { x: number, y: number, w: number, h: number }, targets?: Target[] }
interface Variable { name: string, type: string, query?: unknown, datasource?: { uid?: string }, includeAll?: boolean }
interface Dashboard { uid: string, title: string, panels: Panel[], templating: { list: Variable[] } }

const ROOT = new URL('../../', import.meta.url)
/** How every query names its data source: Grafana's variable, written out literally. */
const DATASOURCE_VARIABLE = '$' + '{datasource}'
const read = async (path: string) => readFile(new URL(path, ROOT), 'utf8')

describe('ops/grafana/order-mirror.json', () => {
  let dashboard: Dashboard

  beforeAll(async () => {
    dashboard = JSON.parse(await read('ops/grafana/order-mirror.json')) as Dashboard
  })

  it('takes its data source as a variable, and has provider and instance variables fed by it', () => {
    const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]))
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    for (const name of ['instance', 'provider']) {
      expect(variables.get(name)).toMatchObject({ type: 'query', datasource: { uid: DATASOURCE_VARIABLE }, includeAll: true })
    }
  })

  it('queries only through that variable (importable into any Grafana)', () => {
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row')
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE)
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE)
    }
    expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|order-mirror")/)
  })

  it('filters by the instance variable everywhere and by provider where a metric has one', () => {
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr ?? '' })))
    for (const { title, expr } of exprs) {
      for (const selector of expr.match(/\b(?:order_mirror|process|nodejs)_[a-z0-9_]+\{[^}]*\}/g) ?? []) {
        expect(selector, title).toContain('instance=~"$instance"')
      }
    }
    const byProvider = exprs.filter(({ expr }) => expr.includes('provider=~"$provider"'))
    expect(byProvider.length).toBeGreaterThanOrEqual(10)
  })

  it('has panels for what ops asked for', () => {
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase())
    for (const wanted of ['webhooks by provider and outcome', 'webhook ingest latency', 'orders by status', 'reconcile backlog',
      'reconcile lag', 'poll results', 'upstream calls by status', 'upstream latency', 'cpu', 'resident memory', 'event-loop delay']) {
      expect(titles.some((title) => title.includes(wanted)), wanted).toBe(true)
    }
  })

  it('gives every panel its own id and a place that overlaps no other', () => {
    const ids = dashboard.panels.map((panel) => panel.id)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Set<string>()
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24)
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel at ${x},${y}`).toBe(false)
          cells.add(`${x},${y}`)
        }
      }
    }
  })
})

describe('docker-compose.ops.yml', () => {
  it('mounts only files and folders the repository has', async () => {
    const compose = parse(await read('docker-compose.ops.yml')) as { services: Record<string, { volumes?: string[] }> }
    const hostPaths = Object.values(compose.services).flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(':')[0] ?? '')
      .filter((source) => source.startsWith('./'))
    expect(hostPaths.length).toBeGreaterThanOrEqual(3)
    for (const path of hostPaths) await expect(access(new URL(path, ROOT)), path).resolves.toBeUndefined()
  })

  it('has Prometheus load the alert rules, and Grafana the dashboard and a Prometheus data source', async () => {
    const prometheus = parse(await read('ops/prometheus/prometheus.yml')) as { rule_files: string[], scrape_configs: Array<{ job_name: string }> }
    expect(prometheus.rule_files).toEqual(['alerts.yml'])
    expect(prometheus.scrape_configs.map((job) => job.job_name)).toEqual(['order-mirror'])
    const datasources = parse(await read('ops/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ type: string, url: string }> }
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })])
    const dashboards = parse(await read('ops/grafana/provisioning/dashboards/order-mirror.yml')) as { providers: Array<{ options: { path: string } }> }
    expect(dashboards.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards')
  })
})
