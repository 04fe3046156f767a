import { AbortedError, CURRENT_TASK_SYMBOL, type TaskContext } from '@clusterpool/protocol'

/**
 * The running task's context. The AbortSignal is made only when a task asks for it: most tasks
 * never do, and an AbortController per task would cost more than a no-op task itself.
 */
export class RunningTaskContext implements TaskContext {
  #controller: AbortController | undefined
  #abortReason: AbortedError | undefined

  constructor(
    readonly id: number,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason)
    }
    return this.#controller.signal
  }

  /** Fires the signal (now, or as soon as the task first asks for it). */
  abort(): void {
    if (this.#abortReason !== undefined) return
    this.#abortReason = new AbortedError(`task ${this.id} was aborted while running`)
    this.#controller?.abort(this.#abortReason)
  }
}

type Global = typeof globalThis & { [CURRENT_TASK_SYMBOL]?: TaskContext }

/**
 * The globals of a pool child, all non-enumerable:
 * - `currentTask()` and `globalThis[Symbol.for('clusterpool.currentTask')]`;
 * - `__name(fn, name)`, the helper esbuild (and so tsx) inserts into functions it compiles with
 *   their names kept; a task function written in a file run through tsx carries calls to it.
 */
export function installTaskGlobals(): void {
  Object.defineProperty(globalThis, CURRENT_TASK_SYMBOL, {
    value: undefined,
    writable: true,
    enumerable: false,
    configurable: true,
  })
  Object.defineProperty(globalThis, 'currentTask', {
    value: function currentTask(): TaskContext | undefined {
      return (globalThis as Global)[CURRENT_TASK_SYMBOL]
    },
    writable: true,
    enumerable: false,
    configurable: true,
  })
  if (!('__name' in globalThis)) {
    Object.defineProperty(globalThis, '__name', {
      value: <T extends object>(target: T, name: string): T =>
        Object.defineProperty(target, 'name', { value: name, configurable: true }),
      writable: true,
      enumerable: false,
      configurable: true,
    })
  }
}

export function setCurrentTask(context: TaskContext | undefined): void {
  ;(globalThis as Global)[CURRENT_TASK_SYMBOL] = context
}
