import {
  AuthError,
  ConnectionLostError,
  FRAME_ENVELOPE_BYTES,
  InvalidOptionError,
  MAX_TIMER_MS,
  checkMs,
  refusalError,
  type ClusterpoolError,
  type Direction,
  type Message,
  type MessagesByDirection,
} from '@clusterpool/protocol'
import WebSocket from 'ws'

import { Connection, type ConnectionHandlers } from './connection.js'

/** The largest frame a dialing side takes when its options do not say. Bytes (256 MiB). */
export const DEFAULT_DIAL_MAX_PAYLOAD = 256 * 1024 * 1024

/** How a client or a worker reaches the coordinator. */
export interface DialOptions {
  /** The coordinator's token, sent as `Authorization: Bearer`. Default: none. */
  token?: string
  /** Extra CA certificates (PEM) to trust for `wss://`. Default: Node's bundled CAs. */
  ca?: string | Buffer
  /** Accept a `wss://` certificate that does not verify. Default false; for tests only. */
  insecureTls?: boolean
  /** Largest frame accepted from the coordinator. Bytes; default 256 MiB. */
  maxPayload?: number
  /** Give up on the connection and handshake after this long. Milliseconds; default 10000. */
  connectTimeoutMs?: number
}

/** The coordinator's answer to `hello`: its welcome, with the connection to keep using. */
export interface Session<D extends Direction, Out extends Message, W> {
  readonly connection: Connection<D, Out>
  readonly welcome: W
}

/**
 * Connects to a coordinator, sends `hello`, and waits for `welcome`. Fails with `AuthError` for
 * a rejected token, `VersionMismatchError` for another protocol version, and
 * `ConnectionLostError` when the coordinator cannot be reached.
 */
export function openSession<
  D extends Direction,
  Out extends Message,
  W extends MessagesByDirection[D],
>(url: string, direction: D, hello: Out, options: DialOptions = {}): Promise<Session<D, Out, W>> {
  if (!/^wss?:\/\//.test(url)) {
    throw new InvalidOptionError(`coordinator url must start with ws:// or wss://, got ${url}`)
  }
  const timeoutMs = checkMs(options.connectTimeoutMs ?? 10_000, 'options.connectTimeoutMs', {
    max: MAX_TIMER_MS,
  })
  const maxPayload = options.maxPayload ?? DEFAULT_DIAL_MAX_PAYLOAD
  if (!Number.isInteger(maxPayload) || maxPayload < 1)
    throw new InvalidOptionError(
      `options.maxPayload must be a positive integer number of bytes, got ${String(maxPayload)}`,
    )
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      maxPayload,
      perMessageDeflate: false,
      // A zero masking key: ws then neither masks what it sends nor unmasks at the other end,
      // which otherwise costs a JavaScript pass over every byte (≈100 MB/s here) of every frame.
      // Masking protects proxies from scripts in browsers; clients and workers are not those.
      generateMask: zeroMask,
      handshakeTimeout: timeoutMs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.insecureTls ? { rejectUnauthorized: false } : {}),
    })
    let settled = false
    const fail = (error: ClusterpoolError): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.terminate()
      reject(error)
    }
    const timer = setTimeout(
      () =>
        fail(
          new ConnectionLostError(
            `no answer from the coordinator at ${url} within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    )
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0
      fail(
        status === 401 || status === 403
          ? new AuthError(`the coordinator at ${url} refused the token (HTTP ${status})`)
          : new ConnectionLostError(
              `the coordinator at ${url} answered HTTP ${status} instead of upgrading`,
            ),
      )
    })
    ws.on('error', (error) => {
      fail(
        new ConnectionLostError(`cannot reach the coordinator at ${url}: ${error.message}`, {
          cause: error,
        }),
      )
    })
    ws.on('open', () => {
      const handlers: ConnectionHandlers<MessagesByDirection[D]> = {
        onMessages: (messages) => {
          const first = messages[0] as { kind: string } | undefined
          if (first?.kind === 'welcome') {
            if (settled) return
            settled = true
            clearTimeout(timer)
            // What came behind the welcome (and what comes before the caller sets its
            // handlers) is the caller's: a coordinator may assign tasks in the welcome's frame.
            connection.holdUntilHandlers(messages.slice(1))
            // Batches (a burst of submits, a tick's results) go in frames the coordinator
            // takes; only one value too big for any frame is the sender's to refuse.
            const takes = (first as { maxPayload?: unknown }).maxPayload
            if (typeof takes === 'number') connection.limitFrames(takes - FRAME_ENVELOPE_BYTES)
            resolve({ connection, welcome: first as W })
          } else if (first?.kind === 'refuse') {
            fail(refusalError(first as unknown as { code: string; message: string }))
          } else {
            fail(
              new ConnectionLostError(
                `the coordinator at ${url} answered hello with ${String(first?.kind)}`,
              ),
            )
          }
        },
        onClose: (code, reason) => {
          fail(
            new ConnectionLostError(
              `the coordinator at ${url} closed the connection (${code}${reason ? `: ${reason}` : ''})`,
            ),
          )
        },
      }
      const connection = new Connection<D, Out>(ws, direction, handlers)
      connection.send(hello)
      connection.flush()
    })
  })
}

function zeroMask(mask: Buffer): void {
  mask.fill(0)
}
