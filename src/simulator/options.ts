import { z } from 'zod'
import { providers } from '../providers/index.js'
import type { ProviderModule } from '../providers/provider-module.js'
import { asNumber, type EnvironmentOption } from './personality-options.js'

// The simulator's options, composed from every simulated upstream in the registry. The first
// upstream's options sit at the top level, where they always were; each other upstream's sit
// under its provider name (`{ <name>: { … } }`), and so do its variables' paths.

type Registered = typeof providers
type Rest<T> = T extends readonly [unknown, ...infer Tail] ? Tail : []
type First = Registered[0]
type Others = Rest<Registered>[number]
type OptionsSchemaOf<M extends Registered[number]> = M['simulator']['optionsSchema']

export type SimulatorOptionsInput = z.input<OptionsSchemaOf<First>>
  & { seed?: number }
  & { [M in Others as M['name']]?: z.input<OptionsSchemaOf<M>> }

export type SimulatorOptions = z.output<OptionsSchemaOf<First>>
  & { seed: number }
  & { [M in Others as M['name']]: z.output<OptionsSchemaOf<M>> }

/** Seeds order numbers, outcomes and faults of every upstream; unset picks one (reported in the start log). */
const seedSchema = z.number().int().min(0).max(0xffff_ffff).default(() => Math.floor(Math.random() * 0xffff_ffff))

function composeOptionsSchema (modules: readonly ProviderModule[]): z.ZodType<SimulatorOptions, SimulatorOptionsInput> {
  const [first, ...others] = modules
  if (first === undefined) throw new Error('the provider registry is empty')
  const nested = Object.fromEntries(others.map((module) => [module.name, module.simulator.optionsSchema.prefault({})]))
  // zod cannot type a shape assembled from a list; SimulatorOptions above states what it holds.
  return first.simulator.optionsSchema.extend({ seed: seedSchema, ...nested }) as unknown as z.ZodType<SimulatorOptions, SimulatorOptionsInput>
}

export const simulatorOptionsSchema = composeOptionsSchema(providers)

/** The options one upstream was given, out of the composed options. */
export function optionsOf (options: SimulatorOptions, module: ProviderModule, index: number): Record<string, unknown> {
  const all = options as unknown as Record<string, unknown>
  return index === 0 ? all : all[module.name] as Record<string, unknown>
}

export class SimulatorConfigError extends Error {
  constructor (readonly problems: readonly string[]) {
    super(`Invalid simulator configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'SimulatorConfigError'
  }
}

/** Every SIMULATOR_* variable → its option path; the README lists them. */
function environmentOptions (modules: readonly ProviderModule[]): EnvironmentOption[] {
  return [
    ['SIMULATOR_SEED', ['seed'], asNumber],
    ...modules.flatMap((module, index) => module.simulator.environment.map(([variable, path, parse]): EnvironmentOption =>
      [variable, index === 0 ? path : [module.name, ...path], parse]))
  ]
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const processSchema = z.object({
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SIMULATOR_LOG_LEVEL: z.enum(LOG_LEVELS).default('info')
})

export interface SimulatorProcessConfig {
  host: string
  port: number
  logLevel: typeof LOG_LEVELS[number]
  options: SimulatorOptions
}

function setPath (target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path
  if (head === undefined) return
  if (rest.length === 0) {
    target[head] = value
    return
  }
  target[head] ??= {}
  setPath(target[head] as Record<string, unknown>, rest, value)
}

/** The variable behind a zod issue: the one whose option path is the longest prefix of the issue's. */
function variableOf (variables: ReadonlyMap<string, string>, path: readonly string[]): string {
  for (let length = path.length; length > 0; length--) {
    const name = variables.get(path.slice(0, length).join('.'))
    if (name !== undefined) return name
  }
  return path.join('.')
}

/**
 * The simulator process's configuration from SIMULATOR_* variables; empty values count as unset.
 * Throws SimulatorConfigError naming every bad variable.
 */
export function simulatorConfigFromEnv (env: Record<string, string | undefined>): SimulatorProcessConfig {
  const present = (name: string) => {
    const value = env[name]?.trim()
    return value || undefined
  }
  const input: Record<string, unknown> = {}
  const variableFor = new Map<string, string>()
  for (const [name, path, parse] of environmentOptions(providers)) {
    const value = present(name)
    variableFor.set(path.join('.'), name)
    if (value !== undefined) setPath(input, path, parse(value))
  }
  const processInput = Object.fromEntries(Object.keys(processSchema.shape).flatMap((name) => {
    const value = present(name)
    return value === undefined ? [] : [[name, value]]
  }))
  const options = simulatorOptionsSchema.safeParse(input)
  const processed = processSchema.safeParse(processInput)
  if (!options.success || !processed.success) {
    const optionProblems = (options.error?.issues ?? []).map((issue) => `${variableOf(variableFor, issue.path.map(String))}: ${issue.message}`)
    const processProblems = (processed.error?.issues ?? []).map((issue) => `${String(issue.path[0])}: ${issue.message}`)
    throw new SimulatorConfigError([...optionProblems, ...processProblems])
  }
  return {
    host: processed.data.SIMULATOR_HOST,
    port: processed.data.SIMULATOR_PORT,
    logLevel: processed.data.SIMULATOR_LOG_LEVEL,
    options: options.data
  }
}
