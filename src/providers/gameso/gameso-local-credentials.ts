import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { localCredentialsPart } from '../local-credentials-part.js'

/** A webhook secret of the mirror's own, standing in for GAMESO_WEBHOOK_SECRETS on a developer's machine. */
export const gamesoLocalCredentials = localCredentialsPart({
  fields: {
    /** Verifies GameSO webhooks when GAMESO_WEBHOOK_SECRETS is unset; `npm run send` signs with it. */
    gameso_webhook_secret: z.string().min(16)
  },
  generate: async () => ({ gameso_webhook_secret: `gameso_local_${randomBytes(24).toString('base64url')}` }),
  source: 'gamesoWebhookSecret',
  variable: 'GAMESO_WEBHOOK_SECRETS',
  configured: (config) => config.gameso.webhookSecrets.length > 0,
  standIn: (stored) => ({ gamesoWebhookSecrets: [stored.gameso_webhook_secret] }),
  bannerLabel: 'GameSO webhook secret',
  shownLocal: (stored) => stored.gameso_webhook_secret
})
