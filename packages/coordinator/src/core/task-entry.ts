import type { FnRef, SerializedError, TaskOptions } from '@clusterpool/protocol'

import type { ClientSession } from './sessions.js'

/**
 * What the coordinator keeps of a task besides the scheduler's record: the code, the encoded
 * arguments, and the outcome until the client has it and no dependent needs it.
 */
export class TaskEntry {
  readonly key: string
  readonly client: ClientSession
  /** The client's id for it. */
  readonly id: number
  readonly fn: FnRef
  readonly args: Uint8Array
  /** Each dependency: the DepRef id in `args` and the task key it stands for. */
  readonly deps: readonly { readonly id: number; readonly key: string }[] | undefined
  readonly opts: Readonly<TaskOptions> | undefined
  readonly chunk: boolean
  /** The result, held while the client or a dependent may still need it. */
  value: Uint8Array | undefined
  /** A result a worker just reported, until the scheduler accepts it (`memory`). */
  arriving: Uint8Array | undefined
  /** The last error a worker reported (sent to the client if no retry follows). */
  error: SerializedError | undefined
  /** The result stays in a worker's memory (it was too large to travel with its report). */
  held = false
  /** The client asked for the value (`gather`) and waits for it. */
  gathering = false
  /** Data the client scattered, not a task. */
  scattered = false
  /** The client cancelled it while it ran: the worker was told to abort it. */
  aborting = false
  /** The client was told it is running. */
  announced = false
  /** The client already has its outcome (or no longer wants it). */
  settled = false
  /** Its outcome is counted in the per-function progress. */
  counted = false

  constructor(
    key: string,
    client: ClientSession,
    id: number,
    fn: FnRef,
    args: Uint8Array,
    deps: TaskEntry['deps'],
    opts: TaskEntry['opts'],
    chunk: boolean,
  ) {
    this.key = key
    this.client = client
    this.id = id
    this.fn = fn
    this.args = args
    this.deps = deps
    this.opts = opts
    this.chunk = chunk
  }
}

/**
 * Copies a byte view out of its frame when the frame is much larger, so that one long-held
 * value does not keep a whole batch frame alive.
 */
export function detach(bytes: Uint8Array): Uint8Array {
  return bytes.buffer.byteLength > 4 * bytes.byteLength + 4096 ? bytes.slice() : bytes
}
