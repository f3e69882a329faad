import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
  /** The server closed the connection after answering. */
  closed: boolean
}

/**
 * Writes bytes to a server exactly as given — no HTTP client in between to fix them up — and
 * reads everything it answers until it closes the connection. `chunks` after the first are
 * written `gapMs` apart, for a client that sends slowly.
 */
export function rawExchange (port: number, chunks: Array<string | Buffer>, options: { gapMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const received: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    socket.on('data', (data) => received.push(data))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server that answers and closes while bytes are still on their way resets the connection.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(received).toString('utf8')
      const [head = '', ...rest] = text.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n'), closed: true })
    })
    const queue = [...chunks]
    const writeNext = () => {
      const chunk = queue.shift()
      if (chunk === undefined || socket.destroyed) return
      socket.write(chunk)
      if (queue.length > 0) timer = setTimeout(writeNext, options.gapMs ?? 0)
    }
    socket.on('connect', writeNext)
  })
}
