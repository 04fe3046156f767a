import { TimeoutError } from '@clusterpool/protocol'
import type { Future } from './future.js'
import { checkedFutureList } from './future-list.js'
import { timerDelay } from './timer.js'
import { hasDoneCallback, removeDoneCallback } from './internal.js'

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /**
   * How long, in milliseconds counted from the call, to wait for all the futures. When it runs out,
   * the futures that finished before are still handed out, then `next()` rejects with a
   * `TimeoutError` (`N (of M) futures unfinished`) and the iteration ends. The futures themselves are
   * unaffected. Default: no limit. `0` hands out the futures already done, then times out.
   */
  timeoutMs?: number
}

/**
 * Iterates over `futures` as they complete (finish or are cancelled): first those already done at the
 * call, in the given order, then the others in completion order. A future listed twice comes once.
 *
 * ```ts
 * for await (const element of asCompleted(futures, { timeoutMs: 5_000 })) {
 *   const future = element as unknown as Future<number> // see the TypeScript caveat below
 *   console.log(future.key, await future.exception())
 * }
 * ```
 *
 * The iterator hands out the Futures themselves (not their results: it is not an async generator,
 * which would unwrap them). Breaking out of the loop (`return()`) removes its done callbacks and its
 * timer; an iterator dropped without `return()` keeps its callbacks until those futures are done.
 *
 * TypeScript caveat: `for await` types each element as awaited, and since a Future is a thenable
 * `Awaited<Future<T>>` is `T`, so a `for await` loop variable is typed `T` although it holds the Future.
 * `next()` is typed right (`IteratorResult<Future<T>>`); in a `for await` loop, cast the element.
 *
 * @throws InvalidOptionError if `options.timeoutMs` is not a non-negative number.
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<Future<T>> {
  const delayMs = timerDelay(options.timeoutMs, 'options.timeoutMs')
  const list = checkedFutureList(futures, 'asCompleted')
  if (list instanceof TypeError) throw list
  return new AsCompletedIterator(list, delayMs)
}

type IterResult<T> = IteratorResult<Future<T>, undefined>

interface Waiter<T> {
  resolve(result: IterResult<T>): void
  reject(error: unknown): void
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/**
 * A settle queue: one shared done callback appends each future as it completes; `next()` takes from
 * the head, or parks until the callback (or the timer) hands it something. States:
 *
 * ```text
 *   open ── all handed out ──────────────▶ closed
 *     │  ── return() ────────────────────▶ closed
 *     └──── timer [expire] ─▶ expired ── queue drained, next() rejects ──▶ closed
 * ```
 */
class AsCompletedIterator<T> implements AsyncIterableIterator<Future<T>> {
  readonly #total: number
  /** The distinct futures not done at the call; those not yet done hold `#onDone` while we listen. */
  #watched: Future<T>[] = []
  /** How many of `#watched` are not yet done. */
  #pendingCount = 0
  /** Done futures not yet handed out, from `#head` on. */
  #ready: Future<T>[] = []
  #head = 0
  /** `next()` calls waiting for a future (several only if the caller does not await each one). */
  #waiters: Waiter<T>[] = []
  #timer: NodeJS.Timeout | undefined = undefined
  /** Futures still unfinished when time ran out; set by [expire]. */
  #unfinishedAtExpiry: number | undefined = undefined
  #closed = false
  /** One callback shared by all the futures: it receives the future that got done. */
  readonly #onDone = (future: Future<T>): void => {
    this.#pendingCount--
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) waiter.resolve({ done: false, value: future })
    else this.#ready.push(future)
    if (this.#pendingCount === 0) {
      this.#watched = []
      this.#clearTimer()
      if (this.#waiters.length > 0) this.#close()
    }
  }

  constructor(futures: Iterable<Future<T>>, delayMs: number | undefined) {
    // Duplicates: a pending future already holding #onDone is skipped; done ones need a Set.
    let seenDone: Set<Future<T>> | undefined
    for (const future of futures) {
      if (future.done()) {
        seenDone ??= new Set()
        if (seenDone.has(future)) continue
        seenDone.add(future)
        this.#ready.push(future)
      } else if (!hasDoneCallback(future, this.#onDone)) {
        future.addDoneCallback(this.#onDone)
        this.#watched.push(future)
      }
    }
    this.#pendingCount = this.#watched.length
    this.#total = this.#ready.length + this.#pendingCount
    if (this.#pendingCount === 0) return
    if (delayMs === 0) this.#expire()
    else if (delayMs !== undefined) this.#timer = setTimeout(() => this.#expire(), delayMs)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IterResult<T>> {
    if (this.#head < this.#ready.length) return Promise.resolve(this.#take())
    if (this.#closed) return Promise.resolve(DONE)
    if (this.#unfinishedAtExpiry !== undefined) {
      const error = this.#timeoutError()
      this.#close()
      return Promise.reject(error)
    }
    if (this.#pendingCount === 0) {
      this.#close()
      return Promise.resolve(DONE)
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Stops early: drops the done callbacks, the timer and the futures not yet handed out. */
  return(): Promise<IterResult<T>> {
    this.#close()
    return Promise.resolve(DONE)
  }

  #take(): IterResult<T> {
    const future = this.#ready[this.#head] as Future<T>
    this.#head++
    if (this.#head === this.#ready.length) {
      this.#ready = []
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head)
      this.#head = 0
    }
    return { done: false, value: future }
  }

  /** [expire] Time is up: stop listening; what finished before is still handed out first. */
  #expire(): void {
    this.#timer = undefined
    this.#unfinishedAtExpiry = this.#pendingCount
    this.#unregister()
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) {
      waiter.reject(this.#timeoutError())
      this.#close()
    }
  }

  #timeoutError(): TimeoutError {
    return new TimeoutError(
      `asCompleted(): ${String(this.#unfinishedAtExpiry)} (of ${this.#total}) futures unfinished`,
    )
  }

  /** [close] Releases everything; parked `next()` calls get `done: true`. */
  #close(): void {
    this.#closed = true
    this.#clearTimer()
    this.#unregister()
    this.#ready = []
    this.#head = 0
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.resolve(DONE)
  }

  #unregister(): void {
    for (const future of this.#watched) {
      if (!future.done()) removeDoneCallback(future, this.#onDone)
    }
    this.#watched = []
    this.#pendingCount = 0
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }
}
