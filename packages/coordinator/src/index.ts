// @clusterpool/coordinator: the coordinator server, its scheduler, and the embedded LocalCluster.
export { Coordinator } from './coordinator.js'
export { LocalCluster } from './local-cluster.js'
export { COORDINATOR_DEFAULTS } from './server/options.js'
export { DASHBOARD_DEFAULTS, Dashboard, installDashboard } from './dashboard/index.js'
export { Scheduler, SCHEDULER_DEFAULTS, lowerBoundMs, simulate } from './scheduler/index.js'

export type { CoordinatorStartOptions } from './coordinator.js'
export type { LocalClusterOptions } from './local-cluster.js'
export type { CoordinatorOptions } from './server/options.js'
export type { DashboardOptions } from './dashboard/index.js'
export type { ClusterStatus, WorkerStatus } from './core/status.js'
export type {
  Decision,
  SchedulerOptions,
  SimOptions,
  SimResult,
  SimTask,
  SimWorker,
  TaskSpec,
  WorkerSpec,
} from './scheduler/index.js'
