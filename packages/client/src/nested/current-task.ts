import { currentTask as current, type TaskContext } from '@clusterpool/protocol'

import type { Future } from '../future/future.js'
import type { TaskExecutor } from './task-executor.js'

/** What a running task sees of itself, with its executor and `self` typed. */
export type CurrentTask = TaskContext<TaskExecutor, Future<unknown>>

/**
 * The context of the task running here, or undefined outside a task: its id, attempt, abort
 * signal, its own executor (`executor`, submitting to the pool or cluster it runs on) and its
 * own future (`self`). Inside self-contained task functions the same `currentTask()` is a
 * global, so a function that imports it still works after it is shipped as source.
 */
export function currentTask(): CurrentTask | undefined {
  return current() as CurrentTask | undefined
}
