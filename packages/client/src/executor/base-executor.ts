import {
  ExecutorShutdownError,
  InvalidOptionError,
  checkMs,
  fnLabel,
  type DependencyError,
  type FnRef,
  type TaskOptions,
} from '@clusterpool/protocol'

import { Future } from '../future/future.js'
import { toTask, type Task, type TaskLike } from '../task/task.js'
import { Dependents } from './dependents.js'
import { classifyDone, futuresIn, replaceFutures } from './future-args.js'
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
  /**
   * The future to settle, made before the call could be scheduled (its task waited for futures
   * in its arguments). Default: the executor makes one.
   */
  readonly future?: Future<unknown>
}

/** No task option is unsupported (one frozen list, not a new one per submit). */
const NO_OPTIONS: readonly (keyof TaskOptions)[] = Object.freeze([])

export abstract class BaseExecutor implements Executor {
  #state: ExecutorState = 'running'
  #shutdown: Promise<void> | undefined
  /** Tasks waiting for futures in their arguments before they are scheduled. */
  readonly #dependents = new Dependents()

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
    if (options.cancelFutures) {
      this.#dependents.cancelAll()
      this.cancelAll()
    }
    if (this.#shutdown === undefined) {
      this.#state = 'shutting-down'
      // Tasks submitted before shutdown() that still wait for their arguments' futures run
      // first: the workers stop once they are scheduled.
      const waited = this.#dependents.idle()
      this.#shutdown = waited
        .then(() => this.close(wait))
        .finally(() => {
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

  /**
   * Submits a task whose arguments may hold futures, at any depth: a local executor waits for
   * the unfinished ones, then runs the task with their values. A failed or cancelled one fails
   * the task with `DependencyError`. `future`: the task's future, made while it waited.
   */
  protected submitTask(t: Task, args: unknown[], future?: Future<unknown>): Future<unknown> {
    if (!args.some(isObject)) return this.schedule({ ref: t.ref, options: t.options, args, future })
    const replaced = replaceFutures(args, (f) => classifyDone(f) ?? { kind: 'foreign' })
    if ('failed' in replaced) return failed(future, replaced.failed)
    if ('foreign' in replaced) return this.waitForFutures(t, args, (f) => !f.done(), future)
    return this.schedule({ ref: t.ref, options: t.options, args: replaced.args, future })
  }

  /**
   * The task waits for the futures in `args` that `select` picks (unfinished ones), then
   * `submitTask` takes it again, under the same future.
   */
  protected waitForFutures(
    t: Task,
    args: unknown[],
    select: (f: Future<unknown>) => boolean,
    future: Future<unknown> = this.newFuture(t.ref),
  ): Future<unknown> {
    const deps = futuresIn(args, select)
    this.#dependents.wait(future, deps, () => {
      this.submitTask(t, args, future)
    })
    return future
  }

  /** A future for a task that is not scheduled yet (`waitForFutures`). */
  protected newFuture(ref: FnRef): Future<unknown> {
    return new Future(fnLabel(ref))
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

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

/** `future` (or a new one) failed with `error`. */
function failed(future: Future<unknown> | undefined, error: DependencyError): Future<unknown> {
  const f = future ?? new Future<unknown>()
  if (!f.done()) f.setException(error)
  return f
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
