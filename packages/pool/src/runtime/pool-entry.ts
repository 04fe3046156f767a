import { InvalidTaskError, checkMs } from '@clusterpool/protocol'

import { TIMER_MS_RANGE } from '../options.js'
import type { PoolTask } from '../types.js'
import type { FnInfo, FnRegistry } from './fn-registry.js'

/**
 * A task inside the pool.
 *
 * ```
 *            submit             dispatch                 result / error / timeout / crash
 *   (new) ──────────► queued ─────────────► in-flight ────────────────────────────────────► finished
 *                     │   ▲                    │  │
 *                     │   └────────────────────┘  └── force close ──────────────────────────► finished
 *                     │   its process died before it started: back to the front of the queue
 *                     └── cancel / abort / force close ─────────────────────────────────────► finished
 * ```
 *
 * In flight, a task is either its child's head (running, as far as the parent knows: every
 * task before it has reported) or waiting behind it in the child's own queue.
 */
export type PoolEntryState = 'queued' | 'in-flight' | 'finished'

export interface PoolEntry {
  readonly id: number
  readonly fn: FnInfo
  readonly args: Uint8Array
  /** ms, or undefined for none. */
  readonly timeoutMs: number | undefined
  readonly attempt: number
  /** A `map` chunk: the function runs once per item of `args[0]`. */
  readonly chunk: boolean
  state: PoolEntryState
  /** `onStart` was reported (once, on the first dispatch). */
  started: boolean
  /** `abort(id)` was asked for. */
  abortRequested: boolean
  /** The estimate (ms) counted into its child's load when dispatched; NaN if unknown. */
  estimateMs: number
  /** When it first became its child's head (started, as far as the parent knows); NaN before. */
  startedAt: number
  /** While it waits for its executor's futures with a `timeoutMs`: the timer that ends it. */
  waitTimer: NodeJS.Timeout | undefined
}

/** Checks a submitted task and makes its entry. Throws `InvalidTaskError` / `InvalidOptionError`. */
export function createPoolEntry(
  task: PoolTask,
  fns: FnRegistry,
  defaultTimeoutMs: number | undefined,
): PoolEntry {
  if (!Number.isSafeInteger(task.id)) throw new InvalidTaskError('task.id must be an integer')
  if (!(task.args instanceof Uint8Array)) {
    throw new InvalidTaskError('task.args must be a Uint8Array (msgpack-encoded arguments)')
  }
  const kind = (task.fn as { kind?: unknown } | null)?.kind
  if (kind !== 'source' && kind !== 'module') {
    throw new InvalidTaskError("task.fn must be a FnRef of kind 'source' or 'module'")
  }
  return {
    id: task.id,
    fn: fns.lookup(task.fn),
    args: task.args,
    timeoutMs:
      task.timeoutMs === undefined
        ? defaultTimeoutMs
        : checkMs(task.timeoutMs, `task ${task.id} timeoutMs`, TIMER_MS_RANGE),
    attempt: task.attempt ?? 1,
    chunk: task.chunk === true,
    state: 'queued',
    started: false,
    abortRequested: false,
    estimateMs: NaN,
    startedAt: NaN,
    waitTimer: undefined,
  }
}
