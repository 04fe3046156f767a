/**
 * Executor-facing hooks into {@link Future}, kept off its public surface (they reach its private
 * fields through the class's static block). Exported through the package's `./internal` subpath.
 *
 * They work on futures made by this copy of the module; `isFuture` also recognises futures from a
 * duplicate copy (by a `Symbol.for` brand), on which the other hooks throw a TypeError.
 */
import { FUTURE_BRAND, Future, hooks } from './future.js'
import type { Peek, SettledState } from './state.js'

export { setFutureErrorLogger, type FutureErrorLogger } from './logger.js'
export type { Peek, SettledState }

/**
 * A future keyed `<label>-<serial>` (an executor's `<fn>-<task id>`), the key spelled out only
 * when it is asked for (`key`, `toString()`, an error message) rather than once per task.
 */
export function numberedFuture<T>(label: string, serial: number): Future<T> {
  return hooks.numbered<T>(label, serial)
}

/**
 * Registers how to abort the task behind `future` (e.g. abort its AbortSignal, tell the worker),
 * given the future: one handler can serve all of an executor's futures, with no closure per task.
 * Executors call it after dispatch. `future.cancel()` on a *running* future calls the handler once;
 * cancelling a pending future does not (its executor sees `setRunningOrNotifyCancel()` return false,
 * or a done callback with `cancelled()`). Ignored once the future is done; dropped when it gets done.
 */
export function setAbortHandler<T>(future: Future<T>, handler: (future: Future<T>) => void): void {
  hooks.setAbortHandler(future, handler)
}

/**
 * Registers what to do when someone first wants the future's outcome: the cluster executor uses
 * it to fetch a result kept on a worker only when it is awaited. Called once — at once if done
 * callbacks are registered already (someone waits), else at the first `then`, `result`,
 * `exception`, `addDoneCallback` or `done()`. Ignored once the future is done; dropped when it
 * gets done. An executor must not leave its own done callbacks on the future when it calls this.
 */
export function setDemandHandler(future: Future<unknown>, handler: () => void): void {
  hooks.setDemandHandler(future, handler)
}

/**
 * Registers what to do when someone first waits for the future while it is not done: `await`,
 * `then`, `result`, `exception`, `finally`, `addDoneCallback` (so `asCompleted` and `wait` too),
 * but not `done()`. Called once; ignored once the future is done. A task's executor uses it to
 * free the task's slot while it waits, and to check the wait against the wait-for graph.
 * Callbacks registered before the handler (the executor's own) do not count.
 */
export function setWaitHandler(future: Future<unknown>, handler: () => void): void {
  hooks.setWaitHandler(future, handler)
}

/**
 * Removes the first registration of `callback` (compared by identity) from a future that is not yet
 * done. Returns whether one was removed. Done futures have already dropped their callbacks.
 */
export function removeDoneCallback<T>(
  future: Future<T>,
  callback: (future: Future<T>) => void,
): boolean {
  return hooks.removeDoneCallback(future, callback)
}

/** Whether `callback` (compared by identity) is registered on a future that is not yet done. */
export function hasDoneCallback<T>(
  future: Future<T>,
  callback: (future: Future<T>) => void,
): boolean {
  return hooks.hasDoneCallback(future, callback)
}

/** How many done callbacks the future holds (0 once done). For leak checks and diagnostics. */
export function doneCallbackCount(future: Future<unknown>): number {
  return hooks.doneCallbackCount(future)
}

/** Whether `value` is a clusterpool Future, from this copy of the package or another one. */
export function isFuture(value: unknown): value is Future<unknown> {
  return (
    value instanceof Future ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { [FUTURE_BRAND]?: unknown })[FUTURE_BRAND] === true)
  )
}

/** The future's state, telling a success from a failure: for `map`, `wait(FIRST_EXCEPTION)`. */
export function settledState(future: Future<unknown>): SettledState {
  return hooks.settledState(future)
}

/**
 * Reads the future's state and, once it is finished, its value or error, synchronously. Cancelled,
 * pending and running futures give only the state.
 */
export function peek<T>(future: Future<T>): Peek<T> {
  return hooks.peek(future)
}

/**
 * The future's value if it is fulfilled, else `missing`: `peek` for a hot path that only wants
 * a value (`map` looks at every result), with no object made to say so.
 */
export function valueIfFulfilled<T, M>(future: Future<T>, missing: M): T | M {
  return hooks.valueIfFulfilled(future, missing)
}
