import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'

interface KeyPair { publicKey: KeyObject, privateKey: KeyObject }

function generatePair (): KeyPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
}

function publicPem (key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString()
}

/**
 * The two RSA key pairs of MidasBuy's scheme: the merchant's (signs OrderQuery requests; the
 * simulator holds the public half) and the platform's (signs notifications and answers; the
 * simulator holds the private half). A pair that is not configured is made the first time it is
 * needed — an RSA key takes a noticeable moment — and then the simulator can hand out the half a
 * mirror needs, so a sandbox works with no keys configured.
 */
export class SimulatorKeys {
  private merchant: { publicKey: KeyObject, generatedPrivateKey: KeyObject | null } | undefined
  private platform: KeyPair | undefined

  constructor (private readonly configured: { merchantPublicKey: string | null, platformPrivateKey: string | null }) {}

  merchantPublicKey (): KeyObject {
    return this.merchantKeys().publicKey
  }

  /** The merchant private key in PKCS#8 PEM, only when the simulator made it (a configured one it never sees). */
  generatedMerchantPrivateKeyPem (): string | null {
    const key = this.merchantKeys().generatedPrivateKey
    return key === null ? null : key.export({ type: 'pkcs8', format: 'pem' }).toString()
  }

  merchantPublicKeyPem (): string {
    return publicPem(this.merchantPublicKey())
  }

  platformPrivateKey (): KeyObject {
    return this.platformKeys().privateKey
  }

  platformPublicKeyPem (): string {
    return publicPem(this.platformKeys().publicKey)
  }

  private merchantKeys () {
    if (this.merchant === undefined) {
      const { merchantPublicKey } = this.configured
      if (merchantPublicKey === null) {
        const pair = generatePair()
        this.merchant = { publicKey: pair.publicKey, generatedPrivateKey: pair.privateKey }
      } else {
        this.merchant = { publicKey: createPublicKey(merchantPublicKey), generatedPrivateKey: null }
      }
    }
    return this.merchant
  }

  private platformKeys (): KeyPair {
    if (this.platform === undefined) {
      const { platformPrivateKey } = this.configured
      if (platformPrivateKey === null) {
        this.platform = generatePair()
      } else {
        const privateKey = createPrivateKey(platformPrivateKey)
        this.platform = { privateKey, publicKey: createPublicKey(privateKey) }
      }
    }
    return this.platform
  }
}
