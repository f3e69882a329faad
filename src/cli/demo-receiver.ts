import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

// The demo's stand-in for a merchant's system: an HTTP receiver the demo registers as a merchant
// webhook, which checks each delivery's Standard Webhooks signature (the scheme every delivery
// carries whatever the provider: webhook-id, webhook-timestamp, webhook-signature) and reports
// what it got.

export interface ReceivedEvent {
  event: string
  reference: string
  status: string
  webhookId: string
  signatureValid: boolean
}

export interface DemoReceiver {
  url: string
  received: ReceivedEvent[]
  close (): Promise<void>
}

function headerOf (headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  return Array.isArray(value) ? value.join(' ') : value ?? ''
}

/** Checked as a merchant using the standardwebhooks package would: its default key form, `whsec_` + Base64 of the secret. */
function standardSignatureValid (verifier: Webhook, headers: IncomingHttpHeaders, body: Buffer): boolean {
  try {
    verifier.verify(body.toString('utf8'), {
      'webhook-id': headerOf(headers, 'webhook-id'),
      'webhook-timestamp': headerOf(headers, 'webhook-timestamp'),
      'webhook-signature': headerOf(headers, 'webhook-signature')
    })
    return true
  } catch {
    return false
  }
}

export async function startDemoReceiver (secret: string, onEvent: (event: ReceivedEvent) => void): Promise<DemoReceiver> {
  const received: ReceivedEvent[] = []
  const verifier = new Webhook(`whsec_${Buffer.from(secret, 'utf8').toString('base64')}`)
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const signatureValid = standardSignatureValid(verifier, request.headers, body)
      try {
        const envelope = JSON.parse(body.toString('utf8')) as { event: string, data: Record<string, unknown> }
        const event: ReceivedEvent = {
          event: envelope.event,
          reference: String(envelope.data.reference_id ?? envelope.data.payment_order_id ?? ''),
          status: String(envelope.data.status ?? envelope.data.order_status ?? ''),
          webhookId: headerOf(request.headers, 'webhook-id'),
          signatureValid
        }
        received.push(event)
        onEvent(event)
        response.writeHead(signatureValid ? 200 : 401).end()
      } catch {
        response.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/merchant-webhooks`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
