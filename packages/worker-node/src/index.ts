export { TaskPool } from './pool/runtime/task-pool.js'
export { currentTask } from './pool/current-task.js'
export { CURRENT_TASK_SYMBOL } from './pool/types.js'

export type { TaskPoolOptions } from './pool/options.js'
export type { PoolEvents, PoolTask, TaskContext, TaskPoolStats } from './pool/types.js'

// The worker daemon and the transport clients and the coordinator share.
export { WorkerDaemon } from './daemon/worker-daemon.js'
export { parseBytes, parseResources, resolveWorkerDaemonOptions } from './daemon/options.js'
export { Connection } from './transport/connection.js'
export { Outbox } from './transport/outbox.js'
export { openSession } from './transport/dial.js'
export { CLUSTERPOOL_VERSION } from './version.js'

export type { WorkerDaemonState } from './daemon/worker-daemon.js'
export type { WorkerDaemonOptions } from './daemon/options.js'
export type { ConnectionHandlers, ConnectionOptions } from './transport/connection.js'
export type { ItemOf, ItemsKey, MessageSink, OfKind } from './transport/outbox.js'
export type { DialOptions, Session } from './transport/dial.js'
