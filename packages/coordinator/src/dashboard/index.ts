// The live web dashboard: what the coordinator serves at `/` and `/api/events`.
export { Dashboard, installDashboard } from './dashboard.js'
export { DASHBOARD_DEFAULTS, resolveDashboardOptions } from './options.js'

export type { DashboardCoreHooks, DashboardHost, DashboardState } from './dashboard.js'
export type { DashboardOptions } from './options.js'
export type {
  DashBar,
  DashError,
  DashFunction,
  DashPoint,
  DashStream,
  DashWorker,
  DashboardHello,
  DashboardUpdate,
} from './snapshot.js'
