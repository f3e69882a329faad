// What scenario files import. See bench/README.md for how the pieces fit.
export { noopBaseline, pgSelectBaseline, type BaselineDeps, type BaselineRoutes, type RunningBaseline } from './baseline.js'
export type { BenchContext, CompareOptions, Comparison, StartBaselineOptions, StartServiceOptions } from './context.js'
export type { BenchDatabase } from './database.js'
export type { BenchRequest, HttpMethod, LoadOptions, LoadResult, RequestBuilder, RequestBuilderFactory } from './load.js'
export { moduleExport, type ModuleExport } from './module-export.js'
export type { ResultRow } from './results.js'
export type { RunningService } from './service.js'
export type { BenchSettings } from './settings.js'
