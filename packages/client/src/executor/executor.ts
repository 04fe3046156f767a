import type { Future } from '../future/future.js'
import type { TaskLike } from '../task/task.js'

/** An argument may be a plain value or a Future of one: the task receives the future's value. */
export type SubmitArgs<A extends unknown[]> = { [K in keyof A]: A[K] | Future<A[K]> }

export interface MapOptions {
  /** Stop waiting this long after `map` was called; the rest are cancelled. Milliseconds; default: none. */
  timeoutMs?: number
  /** Items sent to a worker together as one task. Default 1. */
  chunksize?: number
  /**
   * Tasks submitted ahead of the consumer, which bounds memory for huge or endless inputs.
   * Default 16384 items.
   */
  maxInFlight?: number
}

export interface ShutdownOptions {
  /** Wait until running and pending tasks are done and the workers have stopped. Default true. */
  wait?: boolean
  /** Cancel pending futures and abort running ones (their AbortSignal fires). Default false. */
  cancelFutures?: boolean
}

/**
 * The executor interface shared by `ThreadPoolExecutor`, `ProcessPoolExecutor`, `ClusterExecutor`
 * and the embedded coordinator. Modelled on Python's `concurrent.futures.Executor`.
 */
export interface Executor extends AsyncDisposable {
  /**
   * Schedules `fn(...args)` and returns its future. Per-call options go on the task:
   * `submit(task(fn, { timeoutMs: 500 }), x)`. Throws `ExecutorShutdownError` after shutdown;
   * an argument that cannot be sent fails only the returned future.
   */
  submit<A extends unknown[], R>(fn: TaskLike<A, R>, ...args: SubmitArgs<A>): Future<Awaited<R>>

  /**
   * `fn(item)` for every item, results in input order. The first failure is thrown at its
   * position and the remaining tasks are cancelled. `items` may be a sync or async iterable,
   * consumed lazily with at most `maxInFlight` tasks outstanding.
   */
  map<T, R>(
    fn: TaskLike<[T], R>,
    items: Iterable<T> | AsyncIterable<T>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>>

  /** Stops accepting tasks; see `ShutdownOptions`. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>
}
