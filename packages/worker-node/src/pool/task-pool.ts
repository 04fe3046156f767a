/** The pool's public face, for code elsewhere in this package (the worker daemon). */
export { TaskPool } from './runtime/task-pool.js'
export type { TaskPoolOptions } from './options.js'
export type { PoolEvents, PoolTask, TaskContext, TaskPoolStats } from './types.js'
