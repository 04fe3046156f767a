// What the bench's ws children share: a ws server on loopback that prints `{"port": N}` once
// listening and exits when stdin closes or on SIGTERM.
import { WebSocketServer, type WebSocket } from 'ws'

export function serveOnLoopback(maxPayload: number, onConnection: (ws: WebSocket) => void): void {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload,
  })
  wss.on('connection', onConnection)
  wss.on('listening', () => {
    const address = wss.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    process.stdout.write(`${JSON.stringify({ port })}\n`)
  })
  const stop = (): void => {
    wss.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.stdin.on('end', stop)
  process.stdin.resume()
}
