import {
  ExecutorShutdownError,
  InvalidOptionError,
  checkMs,
  type FnRef,
  type TaskOptions,
} from '@clusterpool/protocol'

import { Future } from '../future/future.js'
import { isFuture, peek } from '../future/internal.js'
import { toTask, type Task, type TaskLike } from '../task/task.js'
import type { Executor, MapOptions, ShutdownOptions, SubmitArgs } from './executor.js'
import { MapIterator } from './map-iterator.js'

/**
 * The lifecycle every executor shares:
 *
 * ```
 *   running ──shutdown()──▶ shutting-down ──(workers stopped)──▶ shut-down
 * ```
 *
 * Subclasses implement `schedule` (one task whose arguments are plain values) and `close`.
 */
export type ExecutorState = 'running' | 'shutting-down' | 'shut-down'

/** What a subclass is asked to run: the code, its options, and plain argument values. */
export interface ScheduledCall {
  readonly ref: FnRef
  readonly options: Readonly<TaskOptions>
  readonly args: unknown[]
  /** When set, `args[0]` is an array of items, and the task returns an array of results. */
  readonly chunk?: boolean
}

/** No task option is unsupported (one frozen list, not a new one per submit). */
const NO_OPTIONS: readonly (keyof TaskOptions)[] = Object.freeze([])

export abstract class BaseExecutor implements Executor {
  #state: ExecutorState = 'running'
  #shutdown: Promise<void> | undefined

  /** The executor's current lifecycle state. */
  get state(): ExecutorState {
    return this.#state
  }

  /** Runs one call and returns its future. Arguments hold no futures here. */
  protected abstract schedule(call: ScheduledCall): Future<unknown>

  /** Stops the workers; `cancelFutures` has already been applied by `cancelAll`. */
  protected abstract close(wait: boolean): Promise<void>

  /** Cancels every pending future and aborts every running one. */
  protected abstract cancelAll(): void

  /** Task options this executor cannot honour; submitting one throws `InvalidOptionError`. */
  protected unsupportedOptions(): readonly (keyof TaskOptions)[] {
    return NO_OPTIONS
  }

  submit<A extends unknown[], R>(fn: TaskLike<A, R>, ...args: SubmitArgs<A>): Future<Awaited<R>> {
    this.assertRunning()
    const t = this.checkTask(toTask(fn))
    return this.submitTask(t, args) as Future<Awaited<R>>
  }

  map<T, R>(
    fn: TaskLike<[T], R>,
    items: Iterable<T> | AsyncIterable<T>,
    options: MapOptions = {},
  ): AsyncIterableIterator<Awaited<R>> {
    this.assertRunning()
    const t = this.checkTask(toTask(fn))
    const resolved = validateMapOptions(options)
    return new MapIterator<T, Awaited<R>>(items, resolved, (batch) => {
      // One item: the batch, a new array given away by the iterator, is the argument list.
      if (resolved.chunksize === 1) return this.submitTask(t, batch)
      return this.schedule({ ref: t.ref, options: t.options, args: [batch], chunk: true })
    })
  }

  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const wait = options.wait ?? true
    if (options.cancelFutures) this.cancelAll()
    if (this.#shutdown === undefined) {
      this.#state = 'shutting-down'
      this.#shutdown = this.close(wait).finally(() => {
        this.#state = 'shut-down'
      })
    }
    if (wait) await this.#shutdown
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown()
  }

  protected assertRunning(): void {
    if (this.#state !== 'running') {
      throw new ExecutorShutdownError(`cannot submit to ${this.constructor.name} after shutdown()`)
    }
  }

  /** Submits a task whose arguments may hold futures: local executors wait for them first. */
  protected submitTask(t: Task, args: unknown[]): Future<unknown> {
    if (!args.some(isFuture)) return this.schedule({ ref: t.ref, options: t.options, args })
    return this.scheduleAfterDependencies(t, args)
  }

  /**
   * Local executors resolve top-level future arguments before scheduling; the cluster executor
   * overrides this to let the coordinator track dependencies (at any depth).
   */
  protected scheduleAfterDependencies(t: Task, args: unknown[]): Future<unknown> {
    const outer = new Future<unknown>()
    Promise.all(args.map((a) => (isFuture(a) ? a.result() : a))).then(
      (values) => {
        if (outer.cancelled()) return
        const inner = this.schedule({ ref: t.ref, options: t.options, args: values })
        inner.addDoneCallback((f) => relay(f, outer))
      },
      (error: unknown) => {
        if (!outer.done()) outer.setException(error as Error)
      },
    )
    return outer
  }

  private checkTask(t: Task): Task {
    for (const key of this.unsupportedOptions()) {
      if (t.options[key] !== undefined) {
        throw new InvalidOptionError(
          `task option ${key} is not supported by ${this.constructor.name}; it needs a cluster executor`,
        )
      }
    }
    return t
  }
}

/** Settles `to` the way `from` (done) ended. */
function relay(from: Future<unknown>, to: Future<unknown>): void {
  if (to.done()) return
  const outcome = peek(from)
  switch (outcome.state) {
    case 'fulfilled':
      to.setResult(outcome.value)
      return
    case 'rejected':
      to.setException(outcome.error)
      return
    case 'cancelled':
    case 'pending':
    case 'running':
      to.cancel()
      return
  }
}

function validateMapOptions(
  options: MapOptions,
): Required<Omit<MapOptions, 'timeoutMs'>> & MapOptions {
  const { timeoutMs, chunksize = 1, maxInFlight = 16384 } = options
  checkMs(timeoutMs, 'map options.timeoutMs', {
    allowZero: true,
    allowUndefined: true,
    allowInfinity: true,
  })
  if (!Number.isInteger(chunksize) || chunksize < 1) {
    throw new InvalidOptionError(
      `map options.chunksize must be a positive integer, got ${String(chunksize)}`,
    )
  }
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new InvalidOptionError(
      `map options.maxInFlight must be a positive integer, got ${String(maxInFlight)}`,
    )
  }
  return { timeoutMs, chunksize, maxInFlight }
}
