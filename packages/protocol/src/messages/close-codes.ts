/**
 * WebSocket close codes. 1000-1015 are the standard's (RFC 6455); 4000-4999 are ours, numbered
 * after the HTTP status they resemble. A code, once published, keeps its meaning.
 */
import type { ClusterpoolError } from '../errors/errors.js'
import {
  AuthError,
  ConnectionLostError,
  PayloadTooLargeError,
  ProtocolError,
  VersionMismatchError,
} from '../errors/errors.js'

export const CloseCode = {
  /** Normal close: the client or worker is done. */
  NORMAL: 1000,
  /** The peer's process is going away (RFC 6455). */
  GOING_AWAY: 1001,
  /** A frame exceeded `maxPayload`; sent by `ws` itself (RFC 6455 "message too big"). */
  MESSAGE_TOO_BIG: 1009,
  /**
   * The sender could not encode a frame for this peer (msgpackr refused it, such as "Packed
   * buffer would be larger than maximum buffer size"); only that connection closes (RFC 6455
   * "internal error").
   */
  INTERNAL_ERROR: 1011,
  /** The coordinator (or worker) is shutting down. */
  SHUTDOWN: 4000,
  /** The peer broke the wire protocol (a frame `decodeFrame` refused, a message out of turn). */
  PROTOCOL: 4400,
  /** The token was missing or wrong. */
  AUTH: 4401,
  /** No `hello`/`welcome` in time, or a worker's heartbeats stopped. */
  TIMEOUT: 4408,
  /** The peers speak different protocol versions. */
  VERSION_MISMATCH: 4409,
  /** A message or value exceeded a size limit the receiver enforces itself. */
  PAYLOAD_TOO_LARGE: 4413,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** The longest close reason a WebSocket allows, in UTF-8 bytes (`ws` throws past it). */
export const MAX_CLOSE_REASON_BYTES = 123

/** `text` cut to fit a close frame's reason (123 UTF-8 bytes), without splitting a character. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text
  let out = ''
  let used = 0
  const budget = MAX_CLOSE_REASON_BYTES - 3 // room for '…'
  for (const ch of text) {
    const size = Buffer.byteLength(ch)
    if (used + size > budget) break
    out += ch
    used += size
  }
  return `${out}…`
}

/** The error a client or worker raises when its connection closes with `code`. */
export function closeError(code: number, reason: string): ClusterpoolError {
  const detail = reason === '' ? `close code ${code}` : `close code ${code}: ${reason}`
  switch (code) {
    case CloseCode.PROTOCOL:
      return new ProtocolError(`the peer closed the connection for a protocol error (${detail})`)
    case CloseCode.AUTH:
      return new AuthError(`the peer refused the token (${detail})`)
    case CloseCode.VERSION_MISMATCH:
      return new VersionMismatchError(`the peers speak different protocol versions (${detail})`)
    case CloseCode.MESSAGE_TOO_BIG:
    case CloseCode.PAYLOAD_TOO_LARGE:
      return new PayloadTooLargeError(`a frame was larger than the peer accepts (${detail})`)
    default:
      return new ConnectionLostError(`the connection to the coordinator was lost (${detail})`)
  }
}
