import type { TaskContext } from './types.js'
import { CURRENT_TASK_SYMBOL } from './types.js'

/**
 * The task running in this process or thread, or undefined outside a task. Inside a pool child
 * the same function is also a global, `currentTask()`, for shipped source that cannot import.
 */
export function currentTask(): TaskContext | undefined {
  return (globalThis as { [CURRENT_TASK_SYMBOL]?: TaskContext })[CURRENT_TASK_SYMBOL]
}
