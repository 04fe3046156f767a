/**
 * Stable error codes. A code, once published, is never reused for another meaning.
 * `docs/errors.md` lists every one, and a test checks that the list stays complete.
 */
export const ErrorCode = {
  /** A future was cancelled before it ran. */
  CANCELLED: 'CP_ERR_CANCELLED',
  /** A wait on futures (`result`, `exception`, `asCompleted`, `wait`, `map`) ran out of time. */
  TIMEOUT: 'CP_ERR_TIMEOUT',
  /** A future was set twice, or another operation did not fit its state. */
  INVALID_STATE: 'CP_ERR_INVALID_STATE',
  /** The executor can no longer run tasks. */
  BROKEN_EXECUTOR: 'CP_ERR_BROKEN_EXECUTOR',
  /** `submit` or `map` was called after `shutdown`. */
  EXECUTOR_SHUTDOWN: 'CP_ERR_EXECUTOR_SHUTDOWN',
  /** The task's function threw, and its error was not one of JavaScript's built-in classes. */
  TASK_FAILED: 'CP_ERR_TASK_FAILED',
  /** The task's function cannot be shipped: bound, native or a class method. */
  INVALID_TASK: 'CP_ERR_INVALID_TASK',
  /** The task's function uses a variable from an enclosing scope. */
  TASK_SCOPE: 'CP_ERR_TASK_SCOPE',
  /** An argument or a result cannot be sent between processes. */
  UNSENDABLE: 'CP_ERR_UNSENDABLE',
  /** The process or thread running the task died. */
  WORKER_DIED: 'CP_ERR_WORKER_DIED',
  /** The task ran past its `timeoutMs` and was killed with its process. */
  TASK_TIMEOUT: 'CP_ERR_TASK_TIMEOUT',
  /** The task was aborted (cancel while running, or shutdown with `cancelFutures`) before it started. */
  ABORTED: 'CP_ERR_ABORTED',
  /** An option had a value it cannot take. */
  INVALID_OPTION: 'CP_ERR_INVALID_OPTION',
  /** The task's worker died too many times while running it. */
  KILLED_WORKER: 'CP_ERR_KILLED_WORKER',
  /** A future the task depends on failed or was cancelled. */
  DEPENDENCY_FAILED: 'CP_ERR_DEPENDENCY_FAILED',
  /** A peer sent a frame that does not follow the wire protocol. */
  PROTOCOL: 'CP_ERR_PROTOCOL',
  /** The peers speak different protocol versions. */
  VERSION_MISMATCH: 'CP_ERR_VERSION_MISMATCH',
  /** The token was missing or wrong. */
  AUTH: 'CP_ERR_AUTH',
  /** A frame or value was larger than `maxPayload`. */
  PAYLOAD_TOO_LARGE: 'CP_ERR_PAYLOAD_TOO_LARGE',
  /** The connection to the coordinator was lost. */
  CONNECTION_LOST: 'CP_ERR_CONNECTION_LOST',
  /** No worker can ever satisfy the task's resources or placement. */
  NO_WORKER: 'CP_ERR_NO_WORKER',
  /** A value held only by a worker that left could not be recovered. */
  DATA_LOST: 'CP_ERR_DATA_LOST',
  /** A task's wait would close a cycle of tasks waiting on each other. */
  DEADLOCK: 'CP_ERR_DEADLOCK',
  /** A root task's tree of nested tasks grew past its cap (a runaway recursion). */
  DESCENDANT_LIMIT: 'CP_ERR_DESCENDANT_LIMIT',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]
