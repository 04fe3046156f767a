// @clusterpool/client: the Executor API (concurrent.futures for TypeScript), the local
// executors, and the cluster client.
export { Future } from './future/future.js'
export { asCompleted } from './future/as-completed.js'
export { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, wait } from './future/wait.js'
export { BaseExecutor } from './executor/base-executor.js'
export { Task, task } from './task/task.js'
export { currentTask } from './task/current-task.js'
export { ProcessPoolExecutor } from './local/process-pool-executor.js'
export { ClusterExecutor } from './cluster/cluster-executor.js'
export { ThreadPoolExecutor } from './local/thread-pool-executor.js'
export {
  AbortedError,
  AuthError,
  BrokenExecutorError,
  CancelledError,
  ClusterpoolError,
  ConnectionLostError,
  DependencyError,
  ErrorCode,
  ExecutorShutdownError,
  InvalidOptionError,
  InvalidStateError,
  InvalidTaskError,
  KilledWorkerError,
  NoWorkerError,
  PayloadTooLargeError,
  ProtocolError,
  TaskError,
  TaskScopeError,
  TaskTimeoutError,
  TimeoutError,
  UnsendableValueError,
  VersionMismatchError,
  WorkerDiedError,
} from '@clusterpool/protocol'

export type { Executor, MapOptions, ShutdownOptions, SubmitArgs } from './executor/executor.js'
export type { ExecutorState, ScheduledCall } from './executor/base-executor.js'
export type { TaskLike } from './task/task.js'
export type { TaskContext } from './task/current-task.js'
export type { ProcessPoolExecutorOptions } from './local/process-pool-executor.js'
export type { ThreadPoolExecutorOptions } from './local/thread-pool-executor.js'
export type { ReturnWhen, WaitOptions, WaitResult } from './future/wait.js'
export type { AsCompletedOptions } from './future/as-completed.js'
export type { FutureState } from './future/future.js'
export type { TaskOptions, SerializedError } from '@clusterpool/protocol'
export type { ClusterExecutorOptions, ScatterOptions } from './cluster/cluster-executor.js'
