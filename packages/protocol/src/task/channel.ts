/**
 * How a running task's executor (`currentTask().executor`) talks to whatever runs its tasks: the
 * pool's owner (a local executor, or a worker daemon that forwards to the coordinator).
 *
 * The pool carries payloads without reading them. Each is one frame of the client protocol
 * (`encodeFrame`): `submit`, `cancel`, `release`, `gather`, `scatter` and `await` up, the
 * coordinator's answers down, so a task's executor is a cluster client whose link runs through
 * its pool. The receiving side validates every payload as it would a client's frame.
 *
 * ```
 *   task ──send(payload)──▶ child ──NESTED──▶ pool ──onNested──▶ owner (executor / daemon → coordinator)
 *   task ◀──receive(payload)── child ◀──NESTED── pool ◀──sendNested── owner
 * ```
 */
export interface TaskChannel {
  /** The task's id in its pool. */
  readonly taskId: number
  /** Sends one payload to the owner. */
  send(payload: Uint8Array): void
  /** Where payloads from the owner go (one receiver; a later call replaces it). */
  setReceiver(receive: (payload: Uint8Array) => void): void
  /** The task waits for a future of its executor: its slot may run another task meanwhile. */
  secede(): void
  /** The wait is over: the task takes its slot back. */
  rejoin(): void
}

/** What a factory makes for one running task. */
export interface TaskExecutorParts {
  readonly executor: unknown
  readonly self: unknown
}

/**
 * Makes a task's executor and self future over its channel. Registered by the client package
 * (its `task-setup` module, loaded into every pool child) under `TASK_EXECUTOR_FACTORY`.
 */
export type TaskExecutorFactory = (
  channel: TaskChannel,
  context: { readonly id: number; readonly signal: AbortSignal },
) => TaskExecutorParts

/** The global symbol under which the client registers its `TaskExecutorFactory`. */
export const TASK_EXECUTOR_FACTORY: unique symbol = Symbol.for('clusterpool.taskExecutorFactory')

/** The id a task's executor gives its own task's future (`self`) in dependencies. */
export const SELF_ID = 0
