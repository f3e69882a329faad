import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

// The demo's stand-in for a merchant's system: an HTTP receiver the demo registers as a merchant
// webhook, which checks each delivery's GameSO-scheme signature and reports what it got.

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

export async function startDemoReceiver (secret: string, signatureHeader: string, onEvent: (event: ReceivedEvent) => void): Promise<DemoReceiver> {
  const received: ReceivedEvent[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
      const presented = Buffer.from(String(request.headers[signatureHeader] ?? ''))
      const signatureValid = presented.length === expected.length && timingSafeEqual(presented, expected)
      try {
        const envelope = JSON.parse(body.toString('utf8')) as { event: string, data: Record<string, unknown> }
        const event: ReceivedEvent = {
          event: envelope.event,
          reference: String(envelope.data.reference_id ?? envelope.data.payment_order_id ?? ''),
          status: String(envelope.data.status ?? envelope.data.order_status ?? ''),
          webhookId: String(request.headers['webhook-id'] ?? ''),
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
