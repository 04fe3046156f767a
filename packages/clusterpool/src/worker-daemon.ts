import { TASK_SETUP_MODULE } from '@clusterpool/client'
import { WorkerDaemon as Daemon, type WorkerDaemonOptions } from '@clusterpool/worker-node'
import type { Logger } from 'pino'

/**
 * The worker daemon, with tasks given `currentTask().executor`: its task processes load the
 * client's task-setup module (unless `taskSetupModules` says otherwise). The `clusterpool worker`
 * CLI runs this.
 */
export class WorkerDaemon extends Daemon {
  constructor(options: WorkerDaemonOptions, log?: Logger) {
    super({ taskSetupModules: [TASK_SETUP_MODULE], ...options }, log)
  }
}
