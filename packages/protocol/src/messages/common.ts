import { ErrorCode } from '../errors/codes.js'
import type { ClusterpoolError } from '../errors/errors.js'
import {
  AuthError,
  InvalidOptionError,
  PayloadTooLargeError,
  ProtocolError,
  TimeoutError,
  VersionMismatchError,
} from '../errors/errors.js'
import type { ModuleFnRef } from '../task/fn-ref.js'

/**
 * A function reference (`FnRef`) as it travels: a `source` reference may leave out `source` when the
 * sender already sent that `hash` on the same connection (the receiver caches it by hash).
 */
export type WireFnRef = ModuleFnRef | WireSourceFnRef

export interface WireSourceFnRef {
  readonly kind: 'source'
  readonly hash: string
  /** Left out once the peer has had it on this connection. */
  readonly source?: string
  readonly name: string
}

/** Software versions a peer runs, for the dashboard and for diagnosing mixed clusters. */
export interface Versions {
  /** `process.versions.node`. */
  readonly node: string
  /** The version of the clusterpool package the peer runs. */
  readonly clusterpool: string
}

/**
 * The coordinator's answer to a `hello` it will not accept, to a client or a worker; the
 * coordinator closes the connection right after. Its layout never changes across versions.
 */
export interface Refuse {
  readonly kind: 'refuse'
  /** An `ErrorCode`, such as `CP_ERR_VERSION_MISMATCH`; a newer peer may send one we do not know. */
  readonly code: string
  readonly message: string
}

/** Turns a `refuse` into the error the refused side raises. */
export function refusalError(refuse: Pick<Refuse, 'code' | 'message'>): ClusterpoolError {
  const message = `the coordinator refused the connection: ${refuse.message}`
  switch (refuse.code) {
    case ErrorCode.AUTH:
      return new AuthError(message)
    case ErrorCode.VERSION_MISMATCH:
      return new VersionMismatchError(message)
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return new PayloadTooLargeError(message)
    case ErrorCode.INVALID_OPTION:
      return new InvalidOptionError(message)
    case ErrorCode.TIMEOUT:
      // The hello did not arrive in time (a slow link, a stalled process): worth trying again.
      return new TimeoutError(message)
    default:
      return new ProtocolError(`${message} (${refuse.code})`)
  }
}
