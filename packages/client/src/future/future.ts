import {
  CancelledError,
  InvalidStateError,
  TimeoutError,
  type InvalidOptionError,
} from '@clusterpool/protocol'

import { logError } from './logger.js'
import {
  CANCELLED,
  CANCELLED_NOTIFIED,
  FULFILLED,
  PENDING,
  REJECTED,
  RUNNING,
  settledState,
  stateName,
  type Peek,
  type SettledState,
  type State,
} from './state.js'
import { timerDelay } from './timer.js'

export type { FutureState } from './state.js'

// ── module-private plumbing ─────────────────────────────────────────────────────────────────────

type DoneCallback<T> = (future: Future<T>) => void
/** Callbacks stored without their `T`, so that a Future<T> stays assignable to a Future<unknown>. */
type StoredCallback = (future: never) => void
type Reject = (reason: unknown) => void
type Deliver<T, R> = (future: Future<T>, resolve: (v: R) => void, reject: Reject) => void
/** An abort handler, given the future (so that one handler serves all of an executor's futures). */
type AbortHandler = (future: never) => void

let anonymousFutures = 0

/** Brand shared by every copy of this module, so `isFuture` works across duplicate installs. */
export const FUTURE_BRAND: unique symbol = Symbol.for('clusterpool.Future')
const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom')

interface FutureHooks {
  numbered<T>(label: string, serial: number): Future<T>
  setAbortHandler<T>(future: Future<T>, handler: (future: Future<T>) => void): void
  setDemandHandler(future: Future<unknown>, handler: () => void): void
  setWaitHandler(future: Future<unknown>, handler: () => void): void
  removeDoneCallback<T>(future: Future<T>, callback: DoneCallback<T>): boolean
  hasDoneCallback<T>(future: Future<T>, callback: DoneCallback<T>): boolean
  doneCallbackCount(future: Future<unknown>): number
  settledState(future: Future<unknown>): SettledState
  peek<T>(future: Future<T>): Peek<T>
  valueIfFulfilled<T, M>(future: Future<T>, missing: M): T | M
}

/** Access to the private fields, assigned by Future's static block; re-exported by `internal.ts`. */
export let hooks: FutureHooks

/**
 * A Future's life, as in Python's `concurrent.futures` (named transitions in brackets):
 *
 * ```text
 *            setRunningOrNotifyCancel()           setResult(v) / setException(e)
 *   pending ─────────── [start] ──────────▶ running ──── [fulfil] / [fail] ────▶ finished
 *      │  └────────────────────── [fulfil] / [fail] ───────────────────────────▶ finished
 *      │
 *      └── cancel() [cancel] ──▶ cancelled ── setRunningOrNotifyCancel() [notify] ──▶ cancelled
 *                                                                  (returns false: do not run)
 * ```
 *
 * - `cancel()` succeeds only from `pending` (or again on a cancelled future). On a running future it
 *   returns `false`, but calls the executor's abort handler once so the task sees its AbortSignal.
 * - `finished` and `cancelled` are final: setting either again throws `InvalidStateError`.
 * - Reaching a final state runs the done callbacks, in registration order, synchronously. Waiters
 *   (`await`, `result()`, `asCompleted`, `wait`) are done callbacks too, so a cancel wakes them at once
 *   (unlike CPython, where they wake only when the executor calls `set_running_or_notify_cancel`).
 *
 * A Future is a thenable: `await future` gives its result or throws its error. Because of that,
 * JavaScript unwraps it wherever it unwraps promises: `return future` from an async function,
 * `Promise.resolve(future)` and `yield future` in an async generator all hand out the *result*, not the
 * Future. Wrap it (`return { future }`) to pass the Future itself through those.
 *
 * Cost: a Future holds eight fields. Callbacks live in a lazily-created slot (one function, or an
 * array from the second one), promises are made only when someone calls `then`, `result` or
 * `exception`, and timers only when a timeout is given. A failed future that nobody awaits therefore
 * never produces an unhandled rejection.
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /** The key given to the constructor, or `future` for an anonymous one. */
  #label: string
  /**
   * The number after the label in the key (`future-<n>`, an executor's `<fn>-<task id>`), or -1
   * when the key is the label alone. The key is spelled out only when asked for: an executor
   * makes a future per task, and rarely prints one.
   */
  #serial: number
  #state: State = PENDING
  /** The result when fulfilled, the error when rejected. */
  #value: unknown = undefined
  #callbacks: StoredCallback | StoredCallback[] | undefined = undefined
  #abort: AbortHandler | undefined = undefined
  /** Called once when someone first wants the outcome (a value kept remotely is fetched then). */
  #demand: (() => void) | undefined = undefined
  /** Called once when someone first waits for the outcome while it is not there yet. */
  #wait: (() => void) | undefined = undefined

  /** @param key A readable identity used in messages (such as a task id); default `future-<n>`. */
  constructor(key?: string) {
    if (key === undefined) {
      this.#label = 'future'
      this.#serial = ++anonymousFutures
    } else {
      this.#label = key
      this.#serial = -1
    }
  }

  /** The future's readable identity, used in error messages and `toString()`. */
  get key(): string {
    return this.#serial < 0 ? this.#label : `${this.#label}-${this.#serial}`
  }

  // ── queries ─────────────────────────────────────────────────────────────────────────────────────

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state >= CANCELLED
  }

  /** Whether the task is running (and so can no longer be cancelled). */
  running(): boolean {
    return this.#state === RUNNING
  }

  /** Whether the future is finished (with a result or an error) or cancelled. */
  done(): boolean {
    if (this.#demand !== undefined) this.#wake()
    return this.#state >= FULFILLED
  }

  // ── cancellation ────────────────────────────────────────────────────────────────────────────────

  /**
   * [cancel] Cancels a pending future. Returns `true` if it is now cancelled (or already was), and
   * `false` if it is running or finished. On a running future it also calls the executor's abort
   * handler (once), which aborts the task's AbortSignal; the future then finishes as the task does.
   */
  cancel(): boolean {
    switch (this.#state) {
      case PENDING:
        this.#settle(CANCELLED, undefined)
        return true
      case CANCELLED:
      case CANCELLED_NOTIFIED:
        return true
      case RUNNING: {
        const abort = this.#abort
        if (abort !== undefined) {
          this.#abort = undefined
          try {
            ;(abort as (future: Future<T>) => void)(this)
          } catch (error) {
            logError(
              `clusterpool: exception calling the abort handler of ${this.toString()}`,
              error,
            )
          }
        }
        return false
      }
      case FULFILLED:
      case REJECTED:
        return false
    }
  }

  // ── waiting ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * The result. Rejects with the task's error, with `CancelledError` if the future was cancelled, or
   * with `TimeoutError` if it is not done within `timeoutMs` (the future itself is unaffected).
   * @param timeoutMs How long to wait, in milliseconds; default: forever (so does `Infinity`, or any
   *   value above 2^31-1 ms). `0` checks without waiting.
   */
  result(timeoutMs?: number): Promise<T> {
    return this.#when<T>(timeoutMs, 'result', this.#deliverResult)
  }

  /**
   * The error the task failed with, or `undefined` if it succeeded. Rejects with `CancelledError` if the
   * future was cancelled, or with `TimeoutError` if it is not done within `timeoutMs`.
   * @param timeoutMs As for {@link result}.
   */
  exception(timeoutMs?: number): Promise<Error | undefined> {
    return this.#when<Error | undefined>(timeoutMs, 'exception', this.#deliverException)
  }

  /** Makes `await future` give the result (or throw the error, or a `CancelledError`). */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#whenDone<T>(this.#deliverResult).then(onFulfilled, onRejected)
  }

  /** As `Promise.prototype.catch`. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected)
  }

  /** As `Promise.prototype.finally`. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#whenDone<T>(this.#deliverResult).finally(onFinally)
  }

  /**
   * Calls `callback(future)` when the future is done (finished or cancelled): at once, synchronously,
   * if it already is; otherwise when it gets there, in registration order. A callback that throws is
   * logged (with the future's key) and does not affect the other callbacks.
   */
  addDoneCallback(callback: (future: Future<T>) => void): void {
    if (this.#demand !== undefined) this.#wake()
    // The wait handler may settle the future (a wait that is a deadlock): check the state after.
    if (this.#wait !== undefined && this.#state < FULFILLED) this.#waited()
    if (this.#state >= FULFILLED) {
      this.#invoke(callback)
      return
    }
    const callbacks = this.#callbacks
    if (callbacks === undefined) this.#callbacks = callback
    else if (typeof callbacks === 'function') this.#callbacks = [callbacks, callback]
    else callbacks.push(callback)
  }

  // ── transitions for executors (and tests) ───────────────────────────────────────────────────────

  /**
   * [start] / [notify] Called by an executor just before it runs the task. A pending future becomes
   * running and this returns `true`; a cancelled one is marked notified and this returns `false` (do
   * not run the task). Any other state throws `InvalidStateError`.
   */
  setRunningOrNotifyCancel(): boolean {
    switch (this.#state) {
      case PENDING:
        this.#state = RUNNING
        return true
      case CANCELLED:
        this.#state = CANCELLED_NOTIFIED
        return false
      case RUNNING:
      case FULFILLED:
      case REJECTED:
      case CANCELLED_NOTIFIED:
        throw new InvalidStateError(
          `setRunningOrNotifyCancel() on ${this.toString()}: the future must be pending or cancelled (and not yet notified)`,
        )
    }
  }

  /** [fulfil] Finishes the future with a result. Throws `InvalidStateError` if it is already done. */
  setResult(value: T): void {
    this.#checkSettable('setResult')
    this.#settle(FULFILLED, value)
  }

  /** [fail] Finishes the future with an error. Throws `InvalidStateError` if it is already done. */
  setException(error: Error): void {
    if (error === undefined) throw new TypeError('setException() needs an error, got undefined')
    this.#checkSettable('setException')
    this.#settle(REJECTED, error)
  }

  // ── display ─────────────────────────────────────────────────────────────────────────────────────

  /** `Future<key> {state}`, state being pending, running, finished or cancelled. */
  toString(): string {
    return `Future<${this.key}> {${stateName(this.#state)}}`
  }

  get [Symbol.toStringTag](): string {
    return 'Future'
  }

  [INSPECT](): string {
    return this.toString()
  }

  // ── private ─────────────────────────────────────────────────────────────────────────────────────

  #checkSettable(method: string): void {
    if (this.#state >= FULFILLED) {
      throw new InvalidStateError(`${method}() on ${this.toString()}: the future is already done`)
    }
  }

  /** Moves to a final state, then runs (and drops) the callbacks. */
  #settle(state: State, value: unknown): void {
    this.#state = state
    this.#value = value
    this.#abort = undefined
    this.#demand = undefined
    this.#wait = undefined
    const callbacks = this.#callbacks
    if (callbacks === undefined) return
    this.#callbacks = undefined
    if (typeof callbacks === 'function') this.#invoke(callbacks)
    else for (const callback of callbacks) this.#invoke(callback)
  }

  /** Runs the demand handler (once). */
  #wake(): void {
    const demand = this.#demand
    this.#demand = undefined
    try {
      demand?.()
    } catch (error) {
      logError(`clusterpool: exception calling the demand handler of ${this.toString()}`, error)
    }
  }

  /** Runs the wait handler (once). */
  #waited(): void {
    const wait = this.#wait
    this.#wait = undefined
    try {
      wait?.()
    } catch (error) {
      logError(`clusterpool: exception calling the wait handler of ${this.toString()}`, error)
    }
  }

  #invoke(callback: StoredCallback): void {
    try {
      ;(callback as DoneCallback<T>)(this)
    } catch (error) {
      logError(`clusterpool: exception calling a done callback of ${this.toString()}`, error)
    }
  }

  #removeCallback(callback: StoredCallback): boolean {
    const callbacks = this.#callbacks
    if (callbacks === callback) {
      this.#callbacks = undefined
      return true
    }
    if (callbacks === undefined || typeof callbacks === 'function') return false
    const index = callbacks.indexOf(callback)
    if (index < 0) return false
    if (callbacks.length === 2) this.#callbacks = callbacks[1 - index]
    else callbacks.splice(index, 1)
    return true
  }

  /** A promise settled by `deliver` once the future is done, or with a TimeoutError after timeoutMs. */
  #when<R>(timeoutMs: number | undefined, method: string, deliver: Deliver<T, R>): Promise<R> {
    if (timeoutMs === undefined) return this.#whenDone(deliver)
    let delayMs: number | undefined
    try {
      delayMs = timerDelay(timeoutMs, 'timeoutMs')
    } catch (error) {
      const invalid = error as InvalidOptionError
      return Promise.reject(invalid)
    }
    if (this.#demand !== undefined) this.#wake()
    return new Promise<R>((resolve, reject) => {
      if (this.#state >= FULFILLED) {
        deliver(this, resolve, reject)
      } else if (delayMs === undefined) {
        this.addDoneCallback(() => deliver(this, resolve, reject))
      } else if (delayMs === 0) {
        reject(this.#timeoutError(method, 0))
      } else {
        const onDone = (): void => {
          clearTimeout(timer)
          deliver(this, resolve, reject)
        }
        const timer = setTimeout(() => {
          this.#removeCallback(onDone)
          reject(this.#timeoutError(method, delayMs))
        }, delayMs)
        this.addDoneCallback(onDone)
      }
    })
  }

  /**
   * `#when` without a timeout, the way `await` and `then` wait: no option to check and no
   * timer branch on the path every awaited future takes.
   */
  #whenDone<R>(deliver: Deliver<T, R>): Promise<R> {
    if (this.#demand !== undefined) this.#wake()
    return new Promise<R>((resolve, reject) => {
      if (this.#state >= FULFILLED) deliver(this, resolve, reject)
      else this.addDoneCallback(() => deliver(this, resolve, reject))
    })
  }

  #timeoutError(method: string, timeoutMs: number): TimeoutError {
    return new TimeoutError(
      `${method}(): ${this.toString()} did not finish within ${timeoutMs} ms (the future is unaffected)`,
    )
  }

  #cancelledError(): CancelledError {
    return new CancelledError(`${this.toString()} was cancelled`)
  }

  #deliverResult(this: void, future: Future<T>, resolve: (v: T) => void, reject: Reject): void {
    switch (future.#state) {
      case FULFILLED:
        return resolve(future.#value as T)
      case REJECTED:
        return reject(future.#value)
      case CANCELLED:
      case CANCELLED_NOTIFIED:
        return reject(future.#cancelledError())
      case PENDING:
      case RUNNING:
        return reject(new InvalidStateError(`${future.toString()} is not done`))
    }
  }

  #deliverException(
    this: void,
    future: Future<T>,
    resolve: (v: Error | undefined) => void,
    reject: Reject,
  ): void {
    switch (future.#state) {
      case FULFILLED:
        return resolve(undefined)
      case REJECTED:
        return resolve(future.#value as Error)
      case CANCELLED:
      case CANCELLED_NOTIFIED:
        return reject(future.#cancelledError())
      case PENDING:
      case RUNNING:
        return reject(new InvalidStateError(`${future.toString()} is not done`))
    }
  }

  static {
    Object.defineProperty(Future.prototype, FUTURE_BRAND, { value: true })
    hooks = {
      numbered<T>(label: string, serial: number): Future<T> {
        const future = new Future<T>(label)
        future.#serial = serial
        return future
      },
      setAbortHandler(future, handler) {
        if (future.#state < FULFILLED) future.#abort = handler
      },
      setDemandHandler(future, handler) {
        if (future.#state >= FULFILLED) return
        future.#demand = handler
        if (future.#callbacks !== undefined) future.#wake() // someone waits already
      },
      setWaitHandler(future, handler) {
        if (future.#state < FULFILLED) future.#wait = handler
      },
      removeDoneCallback: (future, callback) => future.#removeCallback(callback),
      hasDoneCallback(future, callback) {
        const callbacks = future.#callbacks
        if (callbacks === undefined || typeof callbacks === 'function')
          return callbacks === callback
        return callbacks.includes(callback)
      },
      doneCallbackCount(future) {
        const callbacks = future.#callbacks
        if (callbacks === undefined) return 0
        return typeof callbacks === 'function' ? 1 : callbacks.length
      },
      settledState: (future) => settledState(future.#state),
      valueIfFulfilled: <T, M>(future: Future<T>, missing: M): T | M =>
        future.#state === FULFILLED ? (future.#value as T) : missing,
      peek<T>(future: Future<T>): Peek<T> {
        const state = settledState(future.#state)
        switch (state) {
          case 'fulfilled':
            return { state, value: future.#value as T }
          case 'rejected':
            return { state, error: future.#value as Error }
          case 'cancelled':
          case 'pending':
          case 'running':
            return { state }
        }
      },
    }
  }
}
