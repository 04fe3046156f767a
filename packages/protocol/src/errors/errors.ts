import { ErrorCode } from './codes.js'

export interface ClusterpoolErrorOptions {
  cause?: unknown
}

/** Base class of every error clusterpool raises. `code` is stable; `name` is the class name, as a literal. */
export class ClusterpoolError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: ClusterpoolErrorOptions) {
    super(message, options)
    this.code = code
  }

  /** A literal per class, so the name survives minifiers (`constructor.name` would not). */
  override get name(): string {
    return 'ClusterpoolError'
  }
}

/** The future was cancelled. */
export class CancelledError extends ClusterpoolError {
  override get name(): 'CancelledError' {
    return 'CancelledError'
  }

  constructor(message = 'the future was cancelled', options?: ClusterpoolErrorOptions) {
    super(ErrorCode.CANCELLED, message, options)
  }
}

/** A wait on futures ran out of time (the futures themselves keep running). */
export class TimeoutError extends ClusterpoolError {
  override get name(): 'TimeoutError' {
    return 'TimeoutError'
  }

  constructor(message = 'timed out', options?: ClusterpoolErrorOptions) {
    super(ErrorCode.TIMEOUT, message, options)
  }
}

/** The operation does not fit the future's (or executor's) current state. */
export class InvalidStateError extends ClusterpoolError {
  override get name(): 'InvalidStateError' {
    return 'InvalidStateError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.INVALID_STATE, message, options)
  }
}

/** The executor can no longer run tasks; pending futures fail with this. */
export class BrokenExecutorError extends ClusterpoolError {
  override get name(): 'BrokenExecutorError' {
    return 'BrokenExecutorError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.BROKEN_EXECUTOR, message, options)
  }
}

/** `submit` or `map` after `shutdown`. */
export class ExecutorShutdownError extends ClusterpoolError {
  override get name(): 'ExecutorShutdownError' {
    return 'ExecutorShutdownError'
  }

  constructor(
    message = 'cannot submit new tasks after shutdown()',
    options?: ClusterpoolErrorOptions,
  ) {
    super(ErrorCode.EXECUTOR_SHUTDOWN, message, options)
  }
}

/**
 * The error a failed task produces when its own error is not a JavaScript built-in.
 * `name`, `message`, `stack` and `cause` are the task's own; other own properties of the
 * task's error (such as a Node `code` like `ENOENT`) are copied onto it.
 */
export class TaskError extends ClusterpoolError {
  #name: string

  constructor(name: string, message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.TASK_FAILED, message, options)
    this.#name = name
  }

  override get name(): string {
    return this.#name
  }
}

/** The function cannot be shipped to a worker (bound, native or a class method). */
export class InvalidTaskError extends ClusterpoolError {
  override get name(): 'InvalidTaskError' {
    return 'InvalidTaskError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.INVALID_TASK, message, options)
  }
}

/** The task's function used a variable from an enclosing scope, which does not exist where it runs. */
export class TaskScopeError extends ClusterpoolError {
  override get name(): 'TaskScopeError' {
    return 'TaskScopeError'
  }

  readonly variable: string

  constructor(variable: string, options?: ClusterpoolErrorOptions) {
    super(
      ErrorCode.TASK_SCOPE,
      `the task function uses \`${variable}\`, a variable from an enclosing scope: task functions ` +
        `are shipped as source and run in another process, where \`${variable}\` does not exist. ` +
        `Fix: pass it as an argument (executor.submit(fn, ${variable})), or put the function in a ` +
        `module and submit a module task (task(new URL('./tasks.js', import.meta.url), 'name')).`,
      options,
    )
    this.variable = variable
  }
}

/** A value cannot be sent between processes. */
export class UnsendableValueError extends ClusterpoolError {
  override get name(): 'UnsendableValueError' {
    return 'UnsendableValueError'
  }

  readonly path: string
  readonly valueType: string

  constructor(path: string, valueType: string, options?: ClusterpoolErrorOptions) {
    super(
      ErrorCode.UNSENDABLE,
      `${shortPath(path)} is a ${valueType}, which cannot be sent between processes ` +
        '(send numbers, strings, booleans, null, undefined, arrays, plain objects, Buffers, typed arrays, Map, Set, Date or BigInt)',
      options,
    )
    this.path = path
    this.valueType = valueType
  }
}

/** `path` for a message: a very deep one keeps its start and its end. */
function shortPath(path: string): string {
  return path.length <= 200
    ? path
    : `${path.slice(0, 80)}…(${path.length - 160} characters)…${path.slice(-80)}`
}

/** The process or thread that ran the task died. */
export class WorkerDiedError extends ClusterpoolError {
  override get name(): 'WorkerDiedError' {
    return 'WorkerDiedError'
  }

  readonly exitCode: number | null
  readonly signal: string | null

  constructor(
    message: string,
    exitCode: number | null,
    signal: string | null,
    options?: ClusterpoolErrorOptions,
  ) {
    super(ErrorCode.WORKER_DIED, message, options)
    this.exitCode = exitCode
    this.signal = signal
  }
}

/** The task ran past its `timeoutMs`; it was killed together with its process. */
export class TaskTimeoutError extends ClusterpoolError {
  override get name(): 'TaskTimeoutError' {
    return 'TaskTimeoutError'
  }

  readonly timeoutMs: number

  constructor(timeoutMs: number, options?: ClusterpoolErrorOptions) {
    super(
      ErrorCode.TASK_TIMEOUT,
      `the task ran longer than its timeoutMs (${timeoutMs} ms) and was killed with its process`,
      options,
    )
    this.timeoutMs = timeoutMs
  }
}

/** The task was aborted before it started. */
export class AbortedError extends ClusterpoolError {
  override get name(): 'AbortedError' {
    return 'AbortedError'
  }

  constructor(
    message = 'the task was aborted before it started',
    options?: ClusterpoolErrorOptions,
  ) {
    super(ErrorCode.ABORTED, message, options)
  }
}

/** An option had a value it cannot take; the message names the option. */
export class InvalidOptionError extends ClusterpoolError {
  override get name(): 'InvalidOptionError' {
    return 'InvalidOptionError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.INVALID_OPTION, message, options)
  }
}

/** The task's worker died `allowedFailures` times while running it. */
export class KilledWorkerError extends ClusterpoolError {
  override get name(): 'KilledWorkerError' {
    return 'KilledWorkerError'
  }

  readonly workers: readonly string[]

  constructor(taskId: string, workers: readonly string[], options?: ClusterpoolErrorOptions) {
    super(
      ErrorCode.KILLED_WORKER,
      `task ${taskId} was running on ${workers.length} workers that died: ${workers.join(', ')}; ` +
        'it is not retried again',
      options,
    )
    this.workers = workers
  }
}

/** A future that the task depends on failed or was cancelled. */
export class DependencyError extends ClusterpoolError {
  override get name(): 'DependencyError' {
    return 'DependencyError'
  }

  readonly dependency: string

  constructor(dependency: string, reason: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.DEPENDENCY_FAILED, `dependency ${dependency} ${reason}`, options)
    this.dependency = dependency
  }
}

/** A peer broke the wire protocol. */
export class ProtocolError extends ClusterpoolError {
  override get name(): 'ProtocolError' {
    return 'ProtocolError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.PROTOCOL, message, options)
  }
}

/** The peers speak different protocol versions. */
export class VersionMismatchError extends ClusterpoolError {
  override get name(): 'VersionMismatchError' {
    return 'VersionMismatchError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.VERSION_MISMATCH, message, options)
  }
}

/** The token was missing or wrong. */
export class AuthError extends ClusterpoolError {
  override get name(): 'AuthError' {
    return 'AuthError'
  }

  constructor(message = 'the token was missing or wrong', options?: ClusterpoolErrorOptions) {
    super(ErrorCode.AUTH, message, options)
  }
}

/** A frame or value exceeded `maxPayload`. */
export class PayloadTooLargeError extends ClusterpoolError {
  override get name(): 'PayloadTooLargeError' {
    return 'PayloadTooLargeError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.PAYLOAD_TOO_LARGE, message, options)
  }
}

/** The connection to the coordinator was lost. */
export class ConnectionLostError extends ClusterpoolError {
  override get name(): 'ConnectionLostError' {
    return 'ConnectionLostError'
  }

  constructor(
    message = 'the connection to the coordinator was lost',
    options?: ClusterpoolErrorOptions,
  ) {
    super(ErrorCode.CONNECTION_LOST, message, options)
  }
}

/** No connected worker can run the task, and none ever could (resources, placement). */
export class NoWorkerError extends ClusterpoolError {
  override get name(): 'NoWorkerError' {
    return 'NoWorkerError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.NO_WORKER, message, options)
  }
}

/**
 * A value that lived only in a worker's memory was lost with that worker and cannot be computed
 * again: data put there with `scatter`, or a result whose fetch failed.
 */
export class DataLostError extends ClusterpoolError {
  override get name(): 'DataLostError' {
    return 'DataLostError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.DATA_LOST, message, options)
  }
}

/** One task of a wait-for cycle, as `DeadlockError.cycle` names it. */
export interface CycleTask {
  /** The task's key (coordinator) or id (local pool). */
  readonly key: string
  /** Its function's short name. */
  readonly label: string
}

/**
 * A task's wait would close a cycle: each task in `cycle` waits for the next (it awaits its
 * future, or depends on it as an argument), and the last waits for the first, so none could ever
 * finish. The wait that closed it fails with this at once; the tasks keep their state, and the
 * one that waited may catch it.
 */
export class DeadlockError extends ClusterpoolError {
  /** The tasks of the cycle, starting with the one whose wait closed it. */
  readonly cycle: readonly CycleTask[]
  /** The edges of the cycle, `cycle[i]` → `cycle[i + 1]` (and the last → the first). */
  readonly edges: readonly ('await' | 'dependency')[]

  override get name(): 'DeadlockError' {
    return 'DeadlockError'
  }

  constructor(
    message: string,
    cycle: readonly CycleTask[] = [],
    edges: readonly ('await' | 'dependency')[] = [],
    options?: ClusterpoolErrorOptions,
  ) {
    super(ErrorCode.DEADLOCK, message, options)
    this.cycle = cycle
    this.edges = edges
  }
}

/**
 * A task submitted from inside a task would take its root task's tree past the cap on
 * descendants (`maxDescendants`): a recursion that never ends, most likely. The submit fails
 * with this; the rest of the tree and the executor go on.
 */
export class DescendantLimitError extends ClusterpoolError {
  override get name(): 'DescendantLimitError' {
    return 'DescendantLimitError'
  }

  constructor(message: string, options?: ClusterpoolErrorOptions) {
    super(ErrorCode.DESCENDANT_LIMIT, message, options)
  }
}
