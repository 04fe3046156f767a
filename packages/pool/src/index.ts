// @clusterpool/pool: the warm process and thread pool that runs tasks. `runtime/` is the parent's
// side (children, dispatch, deaths), `entry/` the code that runs inside each child.
export { TaskPool } from './runtime/task-pool.js'
export { resolvePoolOptions } from './options.js'
export { formatShares } from './entry/memory-guard.js'

export type { TaskPoolOptions, ResolvedPoolOptions } from './options.js'
export type { PoolEvents, PoolTask, TaskPoolStats } from './types.js'
