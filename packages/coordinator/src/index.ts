// @clusterpool/coordinator: the coordinator server, its scheduler, HTTP endpoints and dashboard.
// LocalCluster, the in-process executor and the CLI are in the `clusterpool` package.
export { Coordinator } from './coordinator.js'
export { COORDINATOR_DEFAULTS } from './server/options.js'
export { DASHBOARD_DEFAULTS, Dashboard, installDashboard } from './dashboard/index.js'
export { Scheduler, SCHEDULER_DEFAULTS } from './scheduler/index.js'

export type { CoordinatorStartOptions } from './coordinator.js'
export type { CoordinatorOptions } from './server/options.js'
export type { DashboardOptions } from './dashboard/index.js'
export type { ClusterStatus, WorkerMemoryStatus, WorkerStatus } from './core/status.js'
export type { Decision, SchedulerOptions, TaskSpec, WorkerSpec } from './scheduler/index.js'
