// Loaded into every pool child (the pool's `setupModules`): gives tasks `currentTask().executor`.
import { TASK_EXECUTOR_FACTORY, type TaskExecutorFactory } from '@clusterpool/protocol'

import { TaskExecutor } from './nested/task-executor.js'

const factory: TaskExecutorFactory = (channel, context) => TaskExecutor.forTask(channel, context)
Object.defineProperty(globalThis, TASK_EXECUTOR_FACTORY, {
  value: factory,
  writable: true,
  enumerable: false,
  configurable: true,
})
