import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'

import {
  CloseCode,
  ErrorCode,
  closeReason,
  createDecoder,
  createEncoder,
  decodeHello,
  encodeFrame,
  type ClientHello,
  type WorkerHello,
} from '@clusterpool/protocol'
import type { Logger } from 'pino'
import { WebSocketServer, type WebSocket } from 'ws'

import { Authenticator, type Admitted } from '../http/auth.js'
import type { ResolvedCoordinatorOptions } from './options.js'

/** What the server hands a connection to once its `hello` checks out. */
export interface ConnectionAcceptor {
  acceptClient(ws: WebSocket, hello: ClientHello, remote: string): void
  acceptWorker(ws: WebSocket, hello: WorkerHello, remote: string): void
  /** Plain HTTP requests (status, metrics, dashboard); the request is already authenticated. */
  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): void
  onProtocolError(reason: string): void
}

/** How long a new connection may take to send its `hello`. Milliseconds. */
const HELLO_TIMEOUT_MS = 10_000

/**
 * The coordinator's listening socket: HTTP(S) for status pages and the WebSocket upgrade for
 * clients and workers. Every request and upgrade is authenticated first; the first frame of a
 * WebSocket must be a valid `hello`, or the connection is refused and closed.
 */
export class CoordinatorServer {
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #auth: Authenticator
  readonly #options: ResolvedCoordinatorOptions
  readonly #log: Logger
  readonly #acceptor: ConnectionAcceptor
  /** Listening and not closing: `/readyz` answers 200. */
  #ready = false

  constructor(options: ResolvedCoordinatorOptions, acceptor: ConnectionAcceptor, log: Logger) {
    this.#options = options
    this.#acceptor = acceptor
    this.#log = log
    this.#auth = new Authenticator(options)
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.#onRequest(req, res)
    this.#server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
      : createHttpServer(handler)
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
    })
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    )
  }

  get authenticator(): Authenticator {
    return this.#auth
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject)
        this.#ready = true
        resolve((this.#server.address() as AddressInfo).port)
      })
    })
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#ready = false
    for (const ws of this.#wss.clients) ws.close(CloseCode.SHUTDOWN, 'coordinator shutting down')
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()))
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://coordinator')
    // Probes, without the token (they tell nothing): `/health` and `/healthz` answer while the
    // process serves requests (liveness), `/readyz` while it accepts peers (readiness). A
    // restarted coordinator is ready at once: clients and workers re-adopt through it.
    if (url.pathname === '/health' || url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      return
    }
    if (url.pathname === '/readyz') {
      res
        .writeHead(this.#ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(this.#ready ? '{"ready":true}' : '{"ready":false}')
      return
    }
    if (!this.#auth.authorize(req)) {
      this.#acceptor.onProtocolError('auth')
      res
        .writeHead(401, { 'content-type': 'text/plain' })
        .end(
          'clusterpool: a token is required (Authorization: Bearer, or ?token= once in a browser)\n',
        )
      return
    }
    // A browser that logged in with ?token= gets a session cookie and a clean URL, so the token
    // does not stay in the address bar, the history or the page.
    if (url.searchParams.has('token') && req.method === 'GET' && this.#auth.required) {
      const cookie = this.#auth.sessionCookie(this.#options.tls !== undefined)
      url.searchParams.delete('token')
      res
        .writeHead(303, {
          location: url.pathname + url.search,
          ...(cookie ? { 'set-cookie': cookie } : {}),
        })
        .end()
      return
    }
    try {
      this.#acceptor.handleHttp(req, res, url)
    } catch (error) {
      this.#log.error({ err: error }, 'HTTP handler failed')
      if (!res.headersSent) res.writeHead(500).end()
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
    const admitted = this.#auth.admit(req)
    if (!admitted.client && !admitted.worker) {
      this.#log.warn({ remote }, 'refused a connection: missing or wrong token')
      this.#acceptor.onProtocolError('auth')
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nclusterpool: wrong or missing token\n',
      )
      return
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#awaitHello(ws, remote, admitted))
  }

  #awaitHello(ws: WebSocket, remote: string, admitted: Admitted): void {
    const timer = setTimeout(
      () =>
        this.#refuse(
          ws,
          remote,
          ErrorCode.TIMEOUT,
          CloseCode.TIMEOUT,
          `no hello within ${HELLO_TIMEOUT_MS} ms`,
        ),
      HELLO_TIMEOUT_MS,
    )
    ws.on('error', (error: Error & { code?: string }) => {
      const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'oversize' : 'socket'
      this.#log.warn(
        { remote, err: error.message },
        reason === 'oversize' ? 'closed a connection: frame over maxPayload' : 'socket error',
      )
      this.#acceptor.onProtocolError(reason)
    })
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer)
      if (!isBinary) {
        this.#refuse(
          ws,
          remote,
          ErrorCode.PROTOCOL,
          CloseCode.PROTOCOL,
          'frames are binary msgpack; got a text frame',
        )
        return
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
      const decoded = decodeHello(createDecoder(), bytes)
      if (!decoded.ok) {
        const version = decoded.error.code === ErrorCode.VERSION_MISMATCH
        this.#refuse(
          ws,
          remote,
          decoded.error.code,
          version ? CloseCode.VERSION_MISMATCH : CloseCode.PROTOCOL,
          decoded.error.message,
        )
        return
      }
      const hello = decoded.hello
      // The token was checked at the upgrade, before the role was known: a client's token
      // does not register a worker, nor a worker's submit tasks.
      if (!admitted[hello.role]) {
        this.#refuse(
          ws,
          remote,
          ErrorCode.AUTH,
          CloseCode.AUTH,
          `the token presented is not a ${hello.role} token (clients and workers have their own)`,
        )
        return
      }
      if (hello.role === 'client') this.#acceptor.acceptClient(ws, hello, remote)
      else this.#acceptor.acceptWorker(ws, hello, remote)
    })
    ws.once('close', () => clearTimeout(timer))
  }

  #refuse(ws: WebSocket, remote: string, code: string, closeCode: number, message: string): void {
    this.#log.warn({ remote, code }, `refused a connection: ${message}`)
    this.#acceptor.onProtocolError(
      code === ErrorCode.VERSION_MISMATCH
        ? 'version'
        : code === ErrorCode.AUTH
          ? 'auth'
          : 'protocol',
    )
    ws.send(
      encodeFrame(createEncoder(), [{ kind: 'refuse', code, message }]),
      { binary: true },
      () => {
        ws.close(closeCode, closeReason(message))
      },
    )
  }
}
