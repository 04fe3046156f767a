// @clusterpool/worker-node: the worker daemon, which joins a coordinator and runs its tasks on a
// local pool. The CLI that starts it lives in the `clusterpool` package.
export { WorkerDaemon } from './daemon/worker-daemon.js'
export {
  WARM_UP,
  parseBytes,
  parseResources,
  resolveWorkerDaemonOptions,
} from './daemon/options.js'

export type { WorkerDaemonState } from './daemon/worker-daemon.js'
export type { WarmUp, WorkerDaemonOptions } from './daemon/options.js'
