import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { withCredentials, type Config, type CredentialOverrides } from '../config.js'
import { providers } from '../providers/index.js'
import type { LocalCredentialsPart, StoredFields } from '../providers/local-credentials-part.js'

// A zero-configuration start on the embedded PostgreSQL is a developer's machine: rather than a
// mirror that refuses every request, it gets credentials of its own, made once and kept beside
// the embedded data. Nothing here runs when DATABASE_URL is set.
//
// The file holds the API key and, field by field, what each provider module's localCredentials
// part keeps; its flat JSON stays as it has always been, so files made before read unchanged.

type ProviderPart = typeof providers[number]['localCredentials']
// Every provider's fields in one object type: the union of the parts' field types, intersected.
type Intersection<Union> = (Union extends unknown ? (part: Union) => void : never) extends (part: infer Both) => void ? Both : never
type ProviderFields = Intersection<ProviderPart extends LocalCredentialsPart<infer Fields, string> ? StoredFields<Fields> : never>

const parts: readonly LocalCredentialsPart[] = providers.map(({ localCredentials }) => localCredentials)

type Flat<Fields> = { readonly [Field in keyof Fields]: Fields[Field] }

/** The credentials file's fields: the API key, each provider's, and when they were made. */
export type LocalCredentials = Flat<{ api_key: string } & ProviderFields & { created_at: string }>

export const localCredentialsSchema: z.ZodType<LocalCredentials> = z.object({
  /** Accepted in X-API-Key when API_KEYS is unset. */
  api_key: z.string().min(16),
  ...Object.assign({}, ...parts.map(({ fields }) => fields)),
  created_at: z.iso.datetime()
  // The providers' shapes are spread at run time, so zod cannot infer them: LocalCredentials spells out the result.
}) as z.ZodType<unknown> as z.ZodType<LocalCredentials>

export class LocalCredentialsError extends Error {
  constructor (readonly file: string, problem: string) {
    super(`${file}: ${problem} (delete the file to have new local credentials made at the next start)`)
    this.name = 'LocalCredentialsError'
  }
}

/** Where the local credentials of an embedded data directory are kept: `./.data/credentials.json` by default. */
export function localCredentialsFile (embeddedDataDir: string): string {
  return path.join(path.dirname(path.resolve(embeddedDataDir)), 'credentials.json')
}

async function generateLocalCredentials (now: Date): Promise<LocalCredentials> {
  const generated = await Promise.all(parts.map((part) => part.generate()))
  return localCredentialsSchema.parse({
    api_key: `om_local_${randomBytes(24).toString('base64url')}`,
    ...Object.assign({}, ...generated),
    created_at: now.toISOString()
  })
}

/** The stored credentials, or null when none were made yet. Throws LocalCredentialsError for a file that is not ours. */
export async function readLocalCredentials (file: string): Promise<LocalCredentials | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new LocalCredentialsError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new LocalCredentialsError(file, 'is not JSON')
  }
  const parsed = localCredentialsSchema.safeParse(json)
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(file)'))]
    throw new LocalCredentialsError(file, `has missing or malformed fields: ${fields.join(', ')}`)
  }
  return parsed.data
}

/**
 * The local credentials of this data directory: made on the first call (crypto-random, file mode
 * 0600), read back on every later one. Two processes starting at once agree on one file: the
 * exclusive create lets only one write it, and the other reads what that one wrote.
 */
export async function loadOrCreateLocalCredentials (file: string, now = new Date()): Promise<{ credentials: LocalCredentials, created: boolean }> {
  const existing = await readLocalCredentials(file)
  if (existing) {
    // Secrets must stay the owner's even if the file was copied around with looser permissions.
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600)
    return { credentials: existing, created: false }
  }
  const credentials = await generateLocalCredentials(now)
  await mkdir(path.dirname(file), { recursive: true })
  try {
    await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const winner = await readLocalCredentials(file)
    if (winner) return { credentials: winner, created: false }
    throw error
  }
  return { credentials, created: true }
}

type CredentialSource = 'configured' | 'local'

/** Where each credential in force comes from: the environment, or the local credentials file. */
export type CredentialSources = { readonly [Source in 'apiKey' | ProviderPart['source']]: CredentialSource }

/** The key of a provider's credential in CredentialSources. */
export function sourceOf (part: LocalCredentialsPart): keyof CredentialSources {
  return part.source as keyof CredentialSources
}

/**
 * The configuration with the local credentials standing in for every credential variable left
 * unset; whatever is configured wins, variable by variable.
 */
export function applyLocalCredentials (config: Config, credentials: LocalCredentials): { config: Config, sources: CredentialSources } {
  const apiKey: CredentialSource = config.apiKeys.length > 0 ? 'configured' : 'local'
  const standingIn = parts.filter((part) => !part.configured(config))
  const sources = Object.fromEntries([
    ['apiKey', apiKey],
    ...parts.map((part) => [part.source, standingIn.includes(part) ? 'local' : 'configured'])
  ]) as CredentialSources
  const overrides: CredentialOverrides = Object.assign(
    apiKey === 'local' ? { apiKeys: [credentials.api_key] } : {},
    ...standingIn.map((part) => part.standIn(credentials))
  )
  return { config: withCredentials(config, overrides), sources }
}

export interface CredentialsInForce {
  config: Config
  /** The local credentials; null with DATABASE_URL, or when none were made yet and none were to be. */
  local: LocalCredentials | null
  sources: CredentialSources | null
  /** Whether this call made the credentials file. */
  created: boolean
}

/**
 * The credentials the mirror runs with for this configuration: on the embedded PostgreSQL, the
 * local ones (made now when `create` is set and there are none yet) stand in for unset variables;
 * with DATABASE_URL, exactly what is configured.
 */
export async function credentialsInForce (config: Config, options: { create: boolean }): Promise<CredentialsInForce> {
  if (config.databaseUrl) return { config, local: null, sources: null, created: false }
  return localCredentialsInForce(config, options)
}

/** The local credentials of the embedded data directory standing in for unset variables, made now when `create` is set and there are none yet. */
export async function localCredentialsInForce (config: Config, { create }: { create: boolean }): Promise<CredentialsInForce> {
  const file = localCredentialsFile(config.embeddedPostgres.dataDir)
  const found = create ? await loadOrCreateLocalCredentials(file) : { credentials: await readLocalCredentials(file), created: false }
  if (found.credentials === null) return { config, local: null, sources: null, created: false }
  const applied = applyLocalCredentials(config, found.credentials)
  return { config: applied.config, local: found.credentials, sources: applied.sources, created: found.created }
}
