export { Scheduler } from './scheduler.js'
export { DecisionType } from './decisions.js'
export { SCHEDULER_DEFAULTS, resolveSchedulerOptions } from './options.js'
export { TASK_TRANSITIONS, TaskState, WorkerRecordState } from './states.js'

export type { ErrorReport, FinishReport, ScatterSpec, TaskSpec, WorkerSpec } from './specs.js'
export type {
  AssignDecision,
  CancelOnWorkerDecision,
  Decision,
  DepLocation,
  ErredDecision,
  FailedDecision,
  FailReason,
  ForgottenDecision,
  MemoryDecision,
  RecomputingDecision,
  ReleaseDataDecision,
  RetryDecision,
  StealRequestDecision,
  StoreDecision,
} from './decisions.js'
export type { ResolvedSchedulerOptions, SchedulerOptions } from './options.js'
export type { TaskTransition } from './states.js'
export type { EstimateView, TaskCounts, TaskView, WorkerView } from './views.js'
