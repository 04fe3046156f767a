import { InvalidOptionError } from '@clusterpool/protocol'

import { PoolExecutor, type NestedTaskOptions } from './pool-executor.js'

export interface ProcessPoolExecutorOptions extends NestedTaskOptions {
  /** Worker processes. Default `os.availableParallelism()`. */
  maxWorkers?: number
  /** Replace a process after it has run this many tasks. Default: never. */
  maxTasksPerChild?: number
  /** Kill a task (and its process) that runs longer than this. Milliseconds; default: none. */
  taskTimeoutMs?: number
  /** Heap limit of each process, in MiB (`--max-old-space-size`). Default: Node's. */
  memoryLimitMb?: number
}

/**
 * Runs tasks in warm child processes: CPU-bound work in parallel, isolated from this process.
 * A process that dies is replaced and fails only the task it was running.
 *
 * ```ts
 * await using ex = new ProcessPoolExecutor({ maxWorkers: 4 })
 * const n = await ex.submit((n: number) => n * 2, 21)
 * ```
 */
export class ProcessPoolExecutor extends PoolExecutor {
  constructor(options: ProcessPoolExecutorOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('ProcessPoolExecutor options must be an object')
    }
    super({ kind: 'process', ...options })
  }
}
