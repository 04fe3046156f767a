/** What a running task can see about itself. */
export interface TaskContext {
  /** The task's id in its pool. */
  readonly id: number
  /** 1 on the first run; retries count up. */
  readonly attempt: number
  /**
   * Fires when the task's future is cancelled while it runs, or the executor shuts down with
   * `cancelFutures`. Tasks that take long should check it or pass it on (fetch, timers).
   */
  readonly signal: AbortSignal
}

const kCurrent = Symbol.for('clusterpool.currentTask')

/**
 * The context of the task running in this process or thread, or undefined outside a task.
 * Inside self-contained task functions the same `currentTask()` is a global, so a function that
 * imports it from here still works after it is shipped as source.
 */
export function currentTask(): TaskContext | undefined {
  return (globalThis as Record<symbol, TaskContext | undefined>)[kCurrent]
}
