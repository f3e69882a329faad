import { generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import { z } from 'zod'
import { localCredentialsPart } from '../local-credentials-part.js'

const generateRsaKeyPair = promisify(generateKeyPair)

const pem = (kind: 'PUBLIC' | 'PRIVATE') => z.string().regex(new RegExp(`^-----BEGIN ${kind} KEY-----\\n[\\s\\S]+\\n-----END ${kind} KEY-----\\n?$`), `expected a PEM ${kind.toLowerCase()} key`)

/**
 * A platform key pair of the mirror's own: the public half stands in for MIDASBUY_PLATFORM_PUBLIC_KEY,
 * the private half lets `npm run send` sign as MidasBuy would.
 */
export const midasbuyLocalCredentials = localCredentialsPart({
  fields: {
    /** Verifies MidasBuy notifications when MIDASBUY_PLATFORM_PUBLIC_KEY is unset. */
    midasbuy_platform_public_key: pem('PUBLIC'),
    /** The other half, which only `npm run send` uses: the stand-in for MidasBuy's own signing key. */
    midasbuy_platform_private_key: pem('PRIVATE')
  },
  async generate () {
    const keys = await generateRsaKeyPair('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
    })
    return { midasbuy_platform_public_key: keys.publicKey, midasbuy_platform_private_key: keys.privateKey }
  },
  source: 'midasbuyPlatformKey',
  variable: 'MIDASBUY_PLATFORM_PUBLIC_KEY',
  configured: (config) => config.midasbuy.platformPublicKey !== undefined,
  standIn: (stored) => ({ midasbuyPlatformPublicKey: stored.midasbuy_platform_public_key }),
  bannerLabel: 'MidasBuy platform key',
  // Key material stays in the file: the private half is for `npm run send` alone.
  shownLocal: (_stored, shownFile) => `RSA key pair in ${shownFile}`
})
