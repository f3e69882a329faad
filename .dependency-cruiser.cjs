// The layer rules of src/ (docs/architecture.md, "Codebase map"), checked by `npm run lint`.
//
// dependency-cruiser rather than eslint-plugin-import-x's no-cycle + no-restricted-paths: it reads
// the TypeScript sources before compilation (tsPreCompilationDeps), so `import type` edges count.
// Most of this codebase's layer leaks and both of its former import circles were type-only
// (repositories sharing `Queryable`, presenters naming repository row types, the simulator and its
// control routes naming each other's interfaces), and import-x's no-cycle skips type imports by
// design. It also walks the whole module graph once instead of once per linted file, so the cycle
// check stays fast as the codebase grows.

/** Layers above a given one, as path patterns. */
const SERVICES = '^src/(services|reconciler)/'
const PLUGINS = '^src/plugins/'
// A provider's routes at its upstream's fixed paths live in its folder, and are routes like the others.
const PROVIDER_ROUTES = '^src/providers/[^/]+/routes/'
const ROUTES = `^src/routes/|${PROVIDER_ROUTES}`
const ENTRY_POINTS = '^src/(app|server)[.]ts$|^src/cli/'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle, type-only edges included: split out what both sides need (a shared type goes one layer down).',
      from: {},
      to: { circular: true }
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain is the pure core: it imports nothing of ours but other domain modules.',
      from: { path: '^src/domain/' },
      to: { path: '^(src|test|bench)/', pathNot: '^src/domain/' }
    },
    {
      name: 'db-is-the-bottom',
      severity: 'error',
      comment: 'src/db (pool, transactions, migrations) sits under everything that uses it.',
      from: { path: '^src/db/' },
      to: { path: [SERVICES, PLUGINS, ROUTES, ENTRY_POINTS, '^src/(repositories|providers|simulator|metrics)/'] }
    },
    {
      name: 'config-is-a-leaf',
      severity: 'error',
      comment: 'config.ts parses the environment and nothing else, so any layer may read the Config type.',
      from: { path: '^src/config[.]ts$' },
      to: { path: '^(src|test|bench)/' }
    },
    {
      name: 'repositories-below-services',
      severity: 'error',
      comment: 'Repositories own the SQL; whoever needs a query calls them, never the other way round.',
      from: { path: '^src/repositories/' },
      to: { path: [SERVICES, PLUGINS, ROUTES, ENTRY_POINTS, '^src/providers/'] }
    },
    {
      name: 'providers-below-storage',
      severity: 'error',
      comment: 'A provider (schemas, signature, mapping, presenter, client) knows its upstream, not how the mirror stores or serves orders; row types it renders live in src/domain.',
      from: { path: '^src/providers/', pathNot: PROVIDER_ROUTES },
      to: { path: ['^src/repositories/', SERVICES, PLUGINS, '^src/routes/', ENTRY_POINTS] }
    },
    {
      name: 'provider-routes-from-their-module',
      severity: 'error',
      comment: 'A provider\'s routes reach the app through its module (index.ts): nothing else of a provider imports them, so its schemas, mapping and client stay free of HTTP.',
      from: { path: '^src/providers/', pathNot: [PROVIDER_ROUTES, '^src/providers/[^/]+/index[.]ts$'] },
      to: { path: PROVIDER_ROUTES }
    },
    {
      name: 'services-below-http',
      severity: 'error',
      comment: 'Services (and the reconciler) are callable without HTTP: no plugin or route imports.',
      from: { path: SERVICES },
      to: { path: [PLUGINS, ROUTES, ENTRY_POINTS] }
    },
    {
      name: 'routes-use-decorations',
      severity: 'error',
      comment: 'Routes call what plugins decorate the instance with; they may name a plugin\'s types, never import its code (that would build a second copy).',
      from: { path: ROUTES },
      to: { path: [PLUGINS, ENTRY_POINTS], dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'plugins-not-routes',
      severity: 'error',
      comment: 'Plugins build and decorate; the app registers routes on top of them.',
      from: { path: PLUGINS },
      to: { path: [ROUTES, ENTRY_POINTS] }
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'Production code never imports tests, their helpers or the benchmarks.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' }
    },
    {
      name: 'src-no-dev-dependencies',
      severity: 'error',
      comment: 'A devDependency is not installed in production (npm ci --omit=dev).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'tracing-sdk-only-when-on',
      severity: 'error',
      comment: 'The OpenTelemetry SDK, its exporter and @fastify/otel load only when tracing is configured: import them dynamically (src/tracing). The API (@opentelemetry/api) is a no-op without them and may be imported anywhere.',
      from: { path: '^src/' },
      to: { path: 'node_modules/(@fastify/otel|@opentelemetry/(?!api/))', dependencyTypesNot: ['dynamic-import', 'type-only'] }
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts']
    },
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' }
  }
}
