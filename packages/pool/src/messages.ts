import type { FnRef, SerializedError } from '@clusterpool/protocol'
import { isSerializedError } from '@clusterpool/protocol'

/**
 * The messages between the pool (parent) and a child process or thread.
 *
 * Messages are tuples whose first element is the kind; each direction has its own union. They
 * travel in batches: one frame (process pipe) or one `postMessage` (thread) carries an array
 * of messages, so a tick's worth of tasks or results costs one write.
 *
 * Parent → child:
 * - `DEFINE [1, fnId, fnRef]` before the first `RUN` of that function on this child.
 * - `RUN [2, taskId, fnId, args, attempt, chunk]` queue a task (`chunk` 1: `args` is `[items]`,
 *   the function runs per item and returns `{ v, e? }`); the child runs its tasks one at a
 *   time, in the order received.
 * - `ABORT [3, taskId]` fire the running task's AbortSignal, or drop a queued one (the child
 *   answers `ERROR` with an `AbortedError`).
 * - `FORGET [4, fnId]` drop a function from the child's cache.
 * - `STOP [5]` finish the queued tasks, then exit with code 0.
 * - `RECLAIM [6]` give back every task not started yet (the child answers `RETURNED`).
 * - `NESTED [7, taskId, payload]` a frame for the running task's executor (`TaskChannel`).
 *
 * Child → parent:
 * - `RESULT [10, taskId, value, durationUs]` the msgpack-encoded return value.
 * - `ERROR [11, taskId, error, durationUs]` the task failed (durationUs is -1 if it never ran).
 * - `FATAL [12, runningTaskId | null, error, origin]` an uncaught exception or unhandled rejection
 *   (`origin` is Node's: `uncaughtException` or `unhandledRejection`); the child exits right after.
 * - `EXITING [13, runningTaskId | null, exitCode]` the child is exiting (`process.exit` called,
 *   perhaps by a task); results computed before were sent ahead of it.
 * - `RETURNED [14, taskIds]` the tasks a `RECLAIM` took back; they never started here, and the
 *   child no longer holds them.
 * - `NESTED [15, taskId, payload]` a frame from the running task's executor, for the pool's owner.
 * - `SECEDE [16, taskId]` the task awaits a future of its executor: the child may run its next
 *   task meanwhile (and the parent may hand it one).
 * - `REJOIN [17, taskId]` the awaited future settled: the task runs again.
 */
export const ToChildKind = {
  DEFINE: 1,
  RUN: 2,
  ABORT: 3,
  FORGET: 4,
  STOP: 5,
  RECLAIM: 6,
  NESTED: 7,
} as const
export type ToChildKind = (typeof ToChildKind)[keyof typeof ToChildKind]

export const ToParentKind = {
  RESULT: 10,
  ERROR: 11,
  FATAL: 12,
  EXITING: 13,
  RETURNED: 14,
  NESTED: 15,
  SECEDE: 16,
  REJOIN: 17,
} as const
export type ToParentKind = (typeof ToParentKind)[keyof typeof ToParentKind]

export type DefineMessage = readonly [typeof ToChildKind.DEFINE, number, FnRef]
export type RunMessage = readonly [
  typeof ToChildKind.RUN,
  number,
  number,
  Uint8Array,
  number,
  0 | 1,
]
export type AbortMessage = readonly [typeof ToChildKind.ABORT, number]
export type ForgetMessage = readonly [typeof ToChildKind.FORGET, number]
export type StopMessage = readonly [typeof ToChildKind.STOP]
export type ReclaimMessage = readonly [typeof ToChildKind.RECLAIM]
export type NestedDownMessage = readonly [typeof ToChildKind.NESTED, number, Uint8Array]
export type ToChild =
  | DefineMessage
  | RunMessage
  | AbortMessage
  | ForgetMessage
  | StopMessage
  | ReclaimMessage
  | NestedDownMessage

export type ResultMessage = readonly [typeof ToParentKind.RESULT, number, Uint8Array, number]
export type ErrorMessage = readonly [typeof ToParentKind.ERROR, number, SerializedError, number]
export type FatalMessage = readonly [
  typeof ToParentKind.FATAL,
  number | null,
  SerializedError,
  string,
]
export type ExitingMessage = readonly [typeof ToParentKind.EXITING, number | null, number]
export type ReturnedMessage = readonly [typeof ToParentKind.RETURNED, number[]]
export type NestedUpMessage = readonly [typeof ToParentKind.NESTED, number, Uint8Array]
export type SecedeMessage = readonly [typeof ToParentKind.SECEDE, number]
export type RejoinMessage = readonly [typeof ToParentKind.REJOIN, number]
export type ToParent =
  | ResultMessage
  | ErrorMessage
  | FatalMessage
  | ExitingMessage
  | ReturnedMessage
  | NestedUpMessage
  | SecedeMessage
  | RejoinMessage

/** Words for a FATAL message's origin: "uncaught exception", "unhandled promise rejection". */
export function describeFatalOrigin(origin: string): string {
  return origin === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception'
}

/** Thrown by the parsers on a message that does not have its kind's shape. */
export class MalformedMessageError extends Error {}

/** Checks one decoded batch from the parent. Throws `MalformedMessageError`. */
export function parseToChild(batch: unknown): ToChild[] {
  if (!Array.isArray(batch)) throw new MalformedMessageError('a batch must be an array')
  for (const m of batch as unknown[]) {
    if (!Array.isArray(m)) throw new MalformedMessageError('a message must be an array')
    if (!isToChild(m)) throw new MalformedMessageError(`malformed message of kind ${String(m[0])}`)
  }
  return batch as ToChild[]
}

/** Checks one decoded batch from a child. Throws `MalformedMessageError`. */
export function parseToParent(batch: unknown): ToParent[] {
  if (!Array.isArray(batch)) throw new MalformedMessageError('a batch must be an array')
  for (const m of batch as unknown[]) {
    if (!Array.isArray(m)) throw new MalformedMessageError('a message must be an array')
    if (!isToParent(m)) throw new MalformedMessageError(`malformed message of kind ${String(m[0])}`)
  }
  return batch as ToParent[]
}

function isToChild(m: unknown[]): boolean {
  const kind = m[0] as ToChildKind
  switch (kind) {
    case ToChildKind.RUN:
      return (
        m.length === 6 &&
        isId(m[1]) &&
        isId(m[2]) &&
        m[3] instanceof Uint8Array &&
        typeof m[4] === 'number' &&
        (m[5] === 0 || m[5] === 1)
      )
    case ToChildKind.DEFINE:
      return m.length === 3 && isId(m[1]) && isFnRef(m[2])
    case ToChildKind.ABORT:
    case ToChildKind.FORGET:
      return m.length === 2 && isId(m[1])
    case ToChildKind.STOP:
    case ToChildKind.RECLAIM:
      return m.length === 1
    case ToChildKind.NESTED:
      return m.length === 3 && isId(m[1]) && m[2] instanceof Uint8Array
    default:
      return false
  }
}

function isToParent(m: unknown[]): boolean {
  const kind = m[0] as ToParentKind
  switch (kind) {
    case ToParentKind.RESULT:
      return m.length === 4 && isId(m[1]) && m[2] instanceof Uint8Array && typeof m[3] === 'number'
    case ToParentKind.ERROR:
      return m.length === 4 && isId(m[1]) && isSerializedError(m[2]) && typeof m[3] === 'number'
    case ToParentKind.FATAL:
      return (
        m.length === 4 &&
        (m[1] === null || isId(m[1])) &&
        isSerializedError(m[2]) &&
        typeof m[3] === 'string'
      )
    case ToParentKind.EXITING:
      return m.length === 3 && (m[1] === null || isId(m[1])) && typeof m[2] === 'number'
    case ToParentKind.RETURNED:
      return m.length === 2 && Array.isArray(m[1]) && (m[1] as unknown[]).every(isId)
    case ToParentKind.NESTED:
      return m.length === 3 && isId(m[1]) && m[2] instanceof Uint8Array
    case ToParentKind.SECEDE:
    case ToParentKind.REJOIN:
      return m.length === 2 && isId(m[1])
    default:
      return false
  }
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v)
}

function isFnRef(v: unknown): v is FnRef {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  if (r.kind === 'source') {
    return typeof r.hash === 'string' && typeof r.source === 'string' && typeof r.name === 'string'
  }
  return r.kind === 'module' && typeof r.url === 'string' && typeof r.exportName === 'string'
}
