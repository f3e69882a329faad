import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders
  /** The exact bytes that arrived. */
  raw: Buffer
}

/** An HTTP endpoint on a real port that keeps every delivery; `respond` picks each answer. */
export interface WebhookReceiver {
  url: string
  received: ReceivedDelivery[]
  respond: (delivery: ReceivedDelivery, res: ServerResponse) => void
  close (): Promise<void>
}

export async function startWebhookReceiver (path: string, respond: WebhookReceiver['respond']): Promise<WebhookReceiver> {
  const received: ReceivedDelivery[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const delivery = { headers: req.headers, raw: Buffer.concat(chunks) }
      received.push(delivery)
      receiver.respond(delivery, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    received,
    respond,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
  return receiver
}
