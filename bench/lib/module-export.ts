import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Names a function that another process imports: a request builder for the load process, routes
 * for a baseline server. Only this reference (and JSON `options`) crosses the process boundary,
 * so what the function closes over is built in the process that uses it.
 */
export interface ModuleExport<O = unknown> {
  /** Absolute path of a .ts or .js module; tsx loads it in the child. */
  module: string
  /** Name of the exported function. */
  export: string
  /** JSON-serialisable value handed to the function. */
  options?: O
}

/**
 * `moduleExport(import.meta.url, 'signedWebhooks', { secret })` names an export of the calling
 * module. Keep such modules free of top-level side effects: the child imports them.
 */
export function moduleExport<O> (moduleUrlOrPath: string | URL, exportName: string, options?: O): ModuleExport<O> {
  const asString = String(moduleUrlOrPath)
  const file = asString.startsWith('file:') ? fileURLToPath(asString) : path.resolve(asString)
  return options === undefined ? { module: file, export: exportName } : { module: file, export: exportName, options }
}

/** Imports the named export in this process and checks that it is a function. */
export async function importExport<F extends (...args: never[]) => unknown> (ref: ModuleExport): Promise<F> {
  const loaded = await import(pathToFileURL(ref.module).href) as Record<string, unknown>
  const value = loaded[ref.export]
  if (typeof value !== 'function') {
    throw new Error(`${ref.module} has no exported function named ${ref.export}`)
  }
  return value as F
}
