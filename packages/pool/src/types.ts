import type { FnRef, SerializedError } from '@clusterpool/protocol'

/** One task handed to a `TaskPool`. */
export interface PoolTask {
  /** Unique among the pool's unfinished tasks; assigned by the caller. */
  readonly id: number
  /** The function to run: shipped source or a module export. */
  readonly fn: FnRef
  /** The msgpack-encoded array of arguments (`encodeValue(encoder, args, ...)`). */
  readonly args: Uint8Array
  /**
   * Kill the task and its process once it has run this long. Milliseconds, counted from when
   * the task starts. Default: the pool's `taskTimeoutMs`, else none.
   */
  readonly timeoutMs?: number
  /** Shown to the task as `currentTask().attempt`. Default 1. */
  readonly attempt?: number
  /**
   * A `map` chunk: `args` encodes `[items]`; the function runs once per item, in order, and
   * the result is `{ v: results, e?: error of the first item that threw }`. Default false.
   */
  readonly chunk?: boolean
  /**
   * Submitted by a running task (through its executor): it goes ahead of the tasks submitted
   * from outside, so that work already started finishes first. Default false.
   */
  readonly urgent?: boolean
}

/**
 * What the pool reports about each task. Exactly one of `onResult` / `onError` fires per
 * submitted task, unless `cancel(id)` returned true for it. `onStart` fires at most once, before
 * it, when the task is first handed to a process or thread; a task whose process died before
 * it began is queued again without a second `onStart`.
 *
 * The callbacks run synchronously inside the pool; an exception thrown from one is rethrown
 * asynchronously and does not disturb the pool.
 */
export interface PoolEvents {
  onStart(id: number): void
  /**
   * `value` is the msgpack-encoded return value (awaited when the task returned a promise). It
   * owns its bytes: each is copied out of the read buffer it arrived in, so a value kept long
   * pins nothing else, and the owner need not copy it again.
   */
  onResult(id: number, value: Uint8Array, durationMs: number): void
  /** `durationMs` is how long the task ran before it failed, 0 if it never started. */
  onError(id: number, error: SerializedError, durationMs: number): void
  /**
   * A frame from the executor of running task `id` (`currentTask().executor`): one frame of the
   * client protocol, unread by the pool. Answer with `TaskPool.sendNested(id, payload)`.
   * Without this handler, such frames are dropped.
   */
  onNested?(id: number, payload: Uint8Array): void
  /** Task `id` now awaits its executor's futures: its slot is free until `onRejoin`. */
  onSecede?(id: number): void
  /** Task `id`'s wait ended: it holds a slot again. */
  onRejoin?(id: number): void
}

/** A snapshot of a pool's counters. */
export interface TaskPoolStats {
  /** Tasks waiting in the pool, not yet handed to a process or thread. */
  queued: number
  /** Tasks handed to a process or thread and not finished. */
  inFlight: number
  /** Of those, how many wait for futures of their executors (their slots are free). */
  waiting: number
  /** Processes or threads alive (including those stopping). */
  workers: number
  /** Tasks that produced a result. */
  completed: number
  /** Tasks that failed (their own error, a crash, a timeout, an abort, a forced close). */
  failed: number
}
