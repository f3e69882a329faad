import { generateKeyPair, randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { z } from 'zod'
import { withCredentials, type Config, type CredentialOverrides } from '../config.js'

// A zero-configuration start on the embedded PostgreSQL is a developer's machine: rather than a
// mirror that refuses every request, it gets credentials of its own, made once and kept beside
// the embedded data. Nothing here runs when DATABASE_URL is set.

const generateRsaKeyPair = promisify(generateKeyPair)

const pem = (kind: 'PUBLIC' | 'PRIVATE') => z.string().regex(new RegExp(`^-----BEGIN ${kind} KEY-----\\n[\\s\\S]+\\n-----END ${kind} KEY-----\\n?$`), `expected a PEM ${kind.toLowerCase()} key`)

export const localCredentialsSchema = z.object({
  /** Accepted in X-API-Key when API_KEYS is unset. */
  api_key: z.string().min(16),
  /** Verifies GameSO webhooks when GAMESO_WEBHOOK_SECRETS is unset; `npm run send` signs with it. */
  gameso_webhook_secret: z.string().min(16),
  /** Verifies MidasBuy notifications when MIDASBUY_PLATFORM_PUBLIC_KEY is unset. */
  midasbuy_platform_public_key: pem('PUBLIC'),
  /** The other half, which only `npm run send` uses: the stand-in for MidasBuy's own signing key. */
  midasbuy_platform_private_key: pem('PRIVATE'),
  created_at: z.iso.datetime()
})

export type LocalCredentials = z.infer<typeof localCredentialsSchema>

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
  const keys = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  return {
    api_key: `om_local_${randomBytes(24).toString('base64url')}`,
    gameso_webhook_secret: `gameso_local_${randomBytes(24).toString('base64url')}`,
    midasbuy_platform_public_key: keys.publicKey,
    midasbuy_platform_private_key: keys.privateKey,
    created_at: now.toISOString()
  }
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

/** Where each credential in force comes from: the environment, or the local credentials file. */
export interface CredentialSources {
  apiKey: 'configured' | 'local'
  gamesoWebhookSecret: 'configured' | 'local'
  midasbuyPlatformKey: 'configured' | 'local'
}

/**
 * The configuration with the local credentials standing in for every credential variable left
 * unset; whatever is configured wins, variable by variable.
 */
export function applyLocalCredentials (config: Config, credentials: LocalCredentials): { config: Config, sources: CredentialSources } {
  const sources: CredentialSources = {
    apiKey: config.apiKeys.length > 0 ? 'configured' : 'local',
    gamesoWebhookSecret: config.gameso.webhookSecrets.length > 0 ? 'configured' : 'local',
    midasbuyPlatformKey: config.midasbuy.platformPublicKey !== undefined ? 'configured' : 'local'
  }
  const overrides: CredentialOverrides = {
    ...(sources.apiKey === 'local' ? { apiKeys: [credentials.api_key] } : {}),
    ...(sources.gamesoWebhookSecret === 'local' ? { gamesoWebhookSecrets: [credentials.gameso_webhook_secret] } : {}),
    ...(sources.midasbuyPlatformKey === 'local' ? { midasbuyPlatformPublicKey: credentials.midasbuy_platform_public_key } : {})
  }
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
