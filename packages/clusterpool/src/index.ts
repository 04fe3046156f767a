// clusterpool: concurrent.futures and Dask distributed for TypeScript. The whole user API from
// one package: the executors and futures, the cluster client, the coordinator, LocalCluster, the
// worker daemon and every error class.
export * from '@clusterpool/client'
export {
  COORDINATOR_DEFAULTS,
  Coordinator,
  DASHBOARD_DEFAULTS,
  SCHEDULER_DEFAULTS,
} from '@clusterpool/coordinator'
export { WorkerDaemon } from './worker-daemon.js'
export { LocalCluster } from './local-cluster.js'
export { embeddedExecutor } from './embedded-executor.js'

export type {
  ClusterStatus,
  CoordinatorOptions,
  CoordinatorStartOptions,
  DashboardOptions,
  SchedulerOptions,
  WorkerMemoryStatus,
  WorkerStatus,
} from '@clusterpool/coordinator'
export type { WorkerDaemonOptions } from '@clusterpool/worker-node'
export type { LocalClusterOptions } from './local-cluster.js'
