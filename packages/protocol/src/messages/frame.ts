/**
 * Frames: what one WebSocket binary message carries.
 *
 * A frame is one msgpack array of messages, in order. Senders coalesce what they have per tick
 * into one frame (many `submit`s may also be merged into one); receivers handle the messages
 * in order. `decodeFrame` validates every message of the frame before returning any, so a
 * frame is taken whole or refused whole; a refused frame is a protocol error, after which the
 * receiver closes the connection with `CloseCode.PROTOCOL`.
 *
 * The first frame on a connection holds exactly one message, `hello`, and its sender sends
 * nothing more until the `welcome` (or `refuse`) arrives; the coordinator reads that frame with
 * `decodeHello`, as it does not know the peer's role yet.
 */
import { PayloadTooLargeError, ProtocolError, VersionMismatchError } from '../errors/errors.js'
import type { Decoder, Encoder } from '../values/codec.js'
import { clip } from '../values/preview.js'
import { asRows } from '../values/rows.js'
import type { ClientHello, ClientToCoordinator, CoordinatorToClient } from './client.js'
import type { Check, Invalid } from './guards.js'
import { describe, invalid, isObj, version } from './guards.js'
import { Direction, KINDS_BY_DIRECTION, Role } from './kinds.js'
import {
  CLIENT_TO_COORDINATOR,
  COORDINATOR_TO_CLIENT,
  checkClientHello,
} from './validate-client.js'
import {
  COORDINATOR_TO_WORKER,
  WORKER_TO_COORDINATOR,
  checkWorkerHello,
} from './validate-worker.js'
import type { CoordinatorToWorker, WorkerHello, WorkerToCoordinator } from './worker.js'

/** The message union of each direction. */
export interface MessagesByDirection {
  'client->coordinator': ClientToCoordinator
  'coordinator->client': CoordinatorToClient
  'worker->coordinator': WorkerToCoordinator
  'coordinator->worker': CoordinatorToWorker
}

/** Any message of any direction. */
export type Message = MessagesByDirection[Direction]

/** Why a frame was refused: a `ProtocolError`, or a `VersionMismatchError` for a `hello`/`welcome`. */
export type FrameError = ProtocolError | VersionMismatchError

export type DecodedFrame<M> =
  { readonly ok: true; readonly messages: M[] } | { readonly ok: false; readonly error: FrameError }

export type DecodedHello =
  | { readonly ok: true; readonly hello: ClientHello | WorkerHello }
  | { readonly ok: false; readonly error: FrameError }

const CHECKS: Readonly<Record<Direction, ReadonlyMap<string, Check>>> = {
  [Direction.CLIENT_TO_COORDINATOR]: CLIENT_TO_COORDINATOR,
  [Direction.COORDINATOR_TO_CLIENT]: COORDINATOR_TO_CLIENT,
  [Direction.WORKER_TO_COORDINATOR]: WORKER_TO_COORDINATOR,
  [Direction.COORDINATOR_TO_WORKER]: COORDINATOR_TO_WORKER,
}

/**
 * Encodes messages as one frame. Messages are trusted (built by this side); nothing is checked.
 * Their `tasks` and `items` lists travel as rows (`values/rows.ts`); the messages are not changed.
 */
export function encodeFrame(encoder: Encoder, messages: readonly Message[]): Uint8Array {
  return encoder.encode(messages.map(withRows))
}

/** `m` with its `tasks` or `items` list as `Rows`, or `m` itself when it has neither. */
function withRows(m: Message): unknown {
  const fields = m as unknown as Record<string, unknown>
  if (fields.tasks !== undefined) {
    const tasks = asRows(fields.tasks)
    if (tasks !== fields.tasks) return { ...fields, tasks }
  } else if (fields.items !== undefined) {
    const items = asRows(fields.items)
    if (items !== fields.items) return { ...fields, items }
  }
  return m
}

/**
 * Decodes and validates one frame travelling in `direction`. Never throws: malformed msgpack,
 * input nested too deep to decode, an unknown kind, a kind of another direction and a missing
 * or mistyped field all come back as `{ ok: false, error }` with a message naming the message
 * and the field, like `message 3 (submit): field tasks[2].fn.hash must be a string, got number`.
 *
 * Byte fields (`args`, `value`) of the returned messages may be views into `bytes`; copy one
 * (`Uint8Array.prototype.slice`) before keeping it long, so the whole frame is not kept with it.
 */
export function decodeFrame<D extends Direction>(
  decoder: Decoder,
  bytes: Uint8Array,
  direction: D,
): DecodedFrame<MessagesByDirection[D]> {
  const raw = decodeArray(decoder, bytes)
  if (!Array.isArray(raw)) return raw
  if (raw.length === 0) return refused('frame holds no messages')
  const checks = CHECKS[direction]
  for (let i = 0; i < raw.length; i++) {
    const error = checkMessage(raw[i], i, checks, direction)
    if (error) return { ok: false, error }
  }
  return { ok: true, messages: raw as MessagesByDirection[D][] }
}

/**
 * Decodes the first frame of a connection to the coordinator: exactly one `hello`, from a
 * client or a worker. A `hello` of another protocol version gives a `VersionMismatchError`
 * (answer it with `refuse` code `CP_ERR_VERSION_MISMATCH`). Never throws.
 */
export function decodeHello(decoder: Decoder, bytes: Uint8Array): DecodedHello {
  const raw = decodeArray(decoder, bytes)
  if (!Array.isArray(raw)) return raw
  if (raw.length !== 1) {
    return refused(`the first frame must hold exactly one message (hello), not ${raw.length}`)
  }
  const m: unknown = raw[0]
  if (!isObj(m)) return refused(`message 0 must be an object, got ${describe(m)}`)
  if (m.kind !== 'hello') {
    return refused(`message 0: the first message must be a hello, got kind ${describe(m.kind)}`)
  }
  const bad = safeCheck(checkAnyHello, m)
  if (bad) return { ok: false, error: invalidError(0, 'hello', bad) }
  return { ok: true, hello: m as unknown as ClientHello | WorkerHello }
}

/**
 * Room a sender leaves below a peer's `maxPayload` for what goes around a value it sends (the
 * message, its key and sizes, the frame itself): batches are split into frames of at most
 * `maxPayload` less this, and one value over that is refused by its sender. Bytes.
 */
export const FRAME_ENVELOPE_BYTES = 4096

/**
 * The error for a frame of `byteLength` bytes when the peer takes at most `maxPayload`, or
 * `undefined` if it fits. Receivers rely on `ws`'s `maxPayload` (which closes with 1009);
 * senders use this to fail a task whose arguments alone exceed the limit.
 */
export function frameTooLarge(
  byteLength: number,
  maxPayload: number,
  what = 'the frame',
): PayloadTooLargeError | undefined {
  if (byteLength <= maxPayload) return undefined
  return new PayloadTooLargeError(
    `${what} is ${byteLength} bytes, over the connection's maxPayload of ${maxPayload} bytes`,
  )
}

/** Version first (so any other version hears so), then the role's own fields. */
const checkAnyHello: Check = (m) =>
  version(m, 'version') ??
  (m.role === Role.CLIENT
    ? checkClientHello(m)
    : m.role === Role.WORKER
      ? checkWorkerHello(m)
      : invalid('role', "'client' or 'worker'", m.role))

function decodeArray(
  decoder: Decoder,
  bytes: Uint8Array,
): unknown[] | { readonly ok: false; readonly error: FrameError } {
  if (!(bytes instanceof Uint8Array)) {
    return refused(`a frame must be binary, got ${describe(bytes)}`)
  }
  let raw: unknown
  try {
    raw = decoder.decode(bytes)
  } catch (cause) {
    if (cause instanceof RangeError && /call stack/i.test(cause.message)) {
      return refused(
        'the frame is not valid msgpack: values nested too deep (Maximum call stack size exceeded)',
        cause,
      )
    }
    return refused(`the frame is not valid msgpack: ${errorText(cause)}`, cause)
  }
  if (!Array.isArray(raw))
    return refused(`a frame must be an array of messages, got ${describe(raw)}`)
  return raw as unknown[]
}

function checkMessage(
  m: unknown,
  index: number,
  checks: ReadonlyMap<string, Check>,
  direction: Direction,
): FrameError | undefined {
  if (!isObj(m)) return new ProtocolError(`message ${index} must be an object, got ${describe(m)}`)
  const kind = m.kind
  if (typeof kind !== 'string') {
    return new ProtocolError(`message ${index}: field kind must be a string, got ${describe(kind)}`)
  }
  const check = checks.get(kind)
  if (check === undefined)
    return new ProtocolError(`message ${index}: ${unexpectedKind(kind, direction)}`)
  const bad = safeCheck(check, m)
  return bad ? invalidError(index, kind, bad) : undefined
}

function safeCheck(check: Check, m: Record<string, unknown>): Invalid | undefined {
  try {
    return check(m)
  } catch (err) {
    // The checks do not throw on any decoded input; this is a last line of defence.
    return { path: '', problem: `could not be checked: ${errorText(err)}` }
  }
}

function invalidError(index: number, kind: string, bad: Invalid): FrameError {
  const where = bad.path === '' ? 'the message' : `field ${bad.path}`
  const text = `message ${index} (${kind}): ${where} ${bad.problem}`
  return bad.versionMismatch ? new VersionMismatchError(text) : new ProtocolError(text)
}

function unexpectedKind(kind: string, direction: Direction): string {
  const shown = kind.length > 40 ? `${JSON.stringify(kind.slice(0, 40))}…` : JSON.stringify(kind)
  const elsewhere = (Object.keys(KINDS_BY_DIRECTION) as Direction[]).filter((d) =>
    KINDS_BY_DIRECTION[d].includes(kind),
  )
  if (elsewhere.length === 0) return `unknown kind ${shown}`
  return (
    `kind ${shown} is not sent ${spell(direction)} ` +
    `(it is sent ${elsewhere.map(spell).join(' and ')})`
  )
}

function spell(direction: Direction): string {
  return `from ${direction.replace('->', ' to ')}`
}

function refused(
  message: string,
  cause?: unknown,
): { readonly ok: false; readonly error: FrameError } {
  return {
    ok: false,
    error: new ProtocolError(message, cause === undefined ? undefined : { cause }),
  }
}

/** A caught error's message, cut short: V8's own messages may quote a value whole. */
function errorText(err: unknown): string {
  if (err instanceof Error) return clip(String(err.message))
  try {
    return typeof err === 'string' ? clip(err) : describe(err)
  } catch {
    return 'an unprintable error'
  }
}
