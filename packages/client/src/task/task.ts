import {
  moduleFnRef,
  sourceFnRef,
  validateTaskOptions,
  type FnRef,
  type TaskOptions,
} from '@clusterpool/protocol'

const kTask = Symbol.for('clusterpool.task')

/**
 * A reference to a task's code plus its per-call options. Executors accept a `Task` wherever
 * they accept a function:
 *
 * ```ts
 * ex.submit(task(fn, { timeoutMs: 1000 }), 1, 2)
 * ex.submit(task(new URL('./tasks.js', import.meta.url), 'cpuHeavy'), 1e8)
 * const heavy = task<[number], number>(new URL('./tasks.ts', import.meta.url), 'cpuHeavy')
 * ex.submit(heavy.with({ retries: 2 }), 1e8)
 * ```
 */
export class Task<A extends unknown[] = unknown[], R = unknown> {
  readonly [kTask] = true
  readonly ref: FnRef
  readonly options: Readonly<TaskOptions>
  /** Only for typing: the argument and result types the task was declared with. */
  declare readonly __types?: (...args: A) => R

  /** @internal use `task(...)` */
  constructor(ref: FnRef, options: Readonly<TaskOptions>) {
    this.ref = ref
    this.options = options
  }

  /** A copy with `options` merged over this task's options. */
  with(options: TaskOptions): Task<A, R> {
    return new Task(this.ref, validateTaskOptions({ ...this.options, ...options }))
  }
}

/** A self-contained function, shipped as source. */
export function task<A extends unknown[], R>(
  fn: (...args: A) => R,
  options?: TaskOptions,
): Task<A, Awaited<R>>
/** An export of a module (file URL or specifier), imported once per worker process. `.ts` runs as is. */
export function task<A extends unknown[] = unknown[], R = unknown>(
  module: string | URL,
  exportName?: string,
  options?: TaskOptions,
): Task<A, Awaited<R>>
export function task(
  fnOrModule: ((...args: never[]) => unknown) | string | URL,
  exportOrOptions?: string | TaskOptions,
  maybeOptions?: TaskOptions,
): Task {
  if (typeof fnOrModule === 'function') {
    return new Task(sourceFnRef(fnOrModule), validateTaskOptions(exportOrOptions))
  }
  const exportName = typeof exportOrOptions === 'string' ? exportOrOptions : 'default'
  const options = typeof exportOrOptions === 'string' ? maybeOptions : exportOrOptions
  return new Task(moduleFnRef(fnOrModule, exportName), validateTaskOptions(options))
}

/** Anything `submit` and `map` accept as the code to run. */
export type TaskLike<A extends unknown[], R> = ((...args: A) => R) | Task<A, R>

/** Normalizes a function or `Task` into a `Task` (functions are described once, then cached). */
export function toTask(fn: TaskLike<never, unknown> | Task): Task {
  if (fn instanceof Task || (typeof fn === 'object' && fn !== null && kTask in fn))
    return fn as Task
  return new Task(sourceFnRef(fn), validateTaskOptions(undefined))
}
