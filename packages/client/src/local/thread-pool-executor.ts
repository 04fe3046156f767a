import { InvalidOptionError } from '@clusterpool/protocol'

import { PoolExecutor, type NestedTaskOptions } from './pool-executor.js'

export interface ThreadPoolExecutorOptions extends NestedTaskOptions {
  /** Worker threads. Default `os.availableParallelism()`. */
  maxWorkers?: number
  /** Kill a task (and its thread) that runs longer than this. Milliseconds; default: none. */
  taskTimeoutMs?: number
}

/**
 * Runs tasks on `worker_threads`. Each thread has its own event loop and heap, so CPU-bound
 * tasks do run in parallel in Node (unlike Python's threads); start-up and round trips are
 * cheaper than processes, but a crashing task takes only its thread down, not this process.
 */
export class ThreadPoolExecutor extends PoolExecutor {
  constructor(options: ThreadPoolExecutorOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('ThreadPoolExecutor options must be an object')
    }
    super({ kind: 'thread', ...options })
  }
}
