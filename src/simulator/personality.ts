import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify'
import type { z } from 'zod'
import type { BaseControl } from './control.js'
import type { EnvironmentOption } from './personality-options.js'
import type { RandomStreams } from './random.js'
import type { Sleeper } from './sleeper.js'

/** What the simulator core hands each simulated upstream when it starts. */
export interface PersonalityContext {
  readonly seed: number
  /** This upstream's own streams: traffic to another upstream never shifts its draws. */
  readonly random: RandomStreams
  /** Wall clock for order timestamps, outages and signature times; tests may pin it. */
  readonly now: () => number
  readonly log: FastifyBaseLogger
  /** Held-back answers, woken all at once when the simulator closes. */
  readonly sleeper: Sleeper
}

export interface PersonalityInstance<Control extends BaseControl> {
  readonly control: Control
  /** The upstream's own API, registered in a scope of its own (its hooks, its error shape). */
  readonly api: FastifyPluginAsync
  /** Its order routes (seed, list, read, advance …) under each of its control prefixes. */
  readonly orderControlApi: FastifyPluginAsync
  /** What the start log line shows of it. */
  summary (): Record<string, unknown>
  /** The environment variables that point a mirror at this simulator for this upstream. */
  mirrorEnvironment (baseUrl: string): Record<string, string>
  /** Called once every upstream's routes are registered: what counts "from start" starts now. */
  started (): void
  /** Stops its timers and abandons its pending deliveries. */
  close (): Promise<void>
}

/**
 * One simulated upstream: its options, its variables, and how it starts. The core gives it faults,
 * stats, webhook dispatch, random streams and the control API; it brings the order model, the API
 * routes and the webhook format.
 */
export interface SimulatorPersonality<OptionsSchema extends z.ZodObject = z.ZodObject, Control extends BaseControl = BaseControl> {
  readonly optionsSchema: OptionsSchema
  /** Its SIMULATOR_* variables, each mapped to an option path. */
  readonly environment: readonly EnvironmentOption[]
  start (context: PersonalityContext, options: z.output<OptionsSchema>): PersonalityInstance<Control>
}
