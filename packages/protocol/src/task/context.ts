/**
 * What a running task can see about itself: `currentTask()` inside the task (a global in task
 * processes and threads), or `globalThis[Symbol.for('clusterpool.currentTask')]`.
 *
 * `Executor` and `Self` are the client's `TaskExecutor` and `Future`; `@clusterpool/client` (and
 * `clusterpool`) export a `currentTask()` typed with them.
 */
export interface TaskContext<Executor = unknown, Self = unknown> {
  /** The task's id in its pool. */
  readonly id: number
  /** 1 on the first run; retries count up. */
  readonly attempt: number
  /**
   * Fires when the task's future is cancelled while it runs, or the executor shuts down with
   * `cancelFutures`; its reason is an `AbortedError`. Tasks that take long should check it or
   * pass it on (fetch, timers).
   */
  readonly signal: AbortSignal
  /**
   * An executor that submits to the pool or cluster this task runs on. The task owns what it
   * submits: when it ends, its unfinished children are cancelled. While the task awaits one of
   * their futures, its slot is free for another task, and a wait that would close a cycle fails
   * with `DeadlockError`. Made on first use.
   */
  readonly executor: Executor
  /** This task's own future, to pass to a child as a dependency or to hand on. */
  readonly self: Self
}

/** The global symbol under which a running task's `TaskContext` is kept. */
export const CURRENT_TASK_SYMBOL: unique symbol = Symbol.for('clusterpool.currentTask')

/**
 * The context of the task running in this process or thread, or undefined outside a task.
 * Inside self-contained task functions the same `currentTask()` is a global, so a function that
 * imports it still works after it is shipped as source.
 */
export function currentTask(): TaskContext | undefined {
  return (globalThis as { [CURRENT_TASK_SYMBOL]?: TaskContext })[CURRENT_TASK_SYMBOL]
}
