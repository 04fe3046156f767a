/**
 * What the scheduler asks the coordinator to do, drained with `Scheduler.takeDecisions()` in the
 * order they were made. The coordinator turns them into messages and errors; the scheduler only
 * states the facts.
 */
export const DecisionType = {
  /** Send the task to the worker. */
  ASSIGN: 'assign',
  /** Send the scattered value to the worker, which keeps it (a `memory` decision follows). */
  STORE: 'store',
  /** Tell the worker to drop the task (abort it if it can). It answers with taskDropped, or with the task's result. */
  CANCEL_ON_WORKER: 'cancel-on-worker',
  /** Ask the victim to give the task up if it has not started; it answers with stealReply. */
  STEAL_REQUEST: 'steal-request',
  /** Tell these workers to drop the key's data. */
  RELEASE_DATA: 'release-data',
  /** The scheduler forgot the key: the coordinator may drop the task's spec. */
  FORGOTTEN: 'forgotten',
  /** The result was accepted: resolve the future; the data stays on `workerId`. */
  MEMORY: 'memory',
  /** The function threw and no retries are left: reject the future with the worker's error. */
  ERRED: 'erred',
  /** The function threw and will run again (`attempt` is the next attempt's number). */
  RETRY: 'retry',
  /** The scheduler gave up on the task: reject the future with an error built from `reason`. */
  FAILED: 'failed',
  /** The task's data was lost with its worker and is being computed again. */
  RECOMPUTING: 'recomputing',
} as const
export type DecisionType = (typeof DecisionType)[keyof typeof DecisionType]

/** Why the scheduler gave up on a task. */
export type FailReason = 'killed-worker' | 'dependency' | 'no-worker' | 'data-lost'

/** Where a dependency's data is; the worker fetches it from there (or has it already). */
export interface DepLocation {
  readonly key: string
  readonly workerId: string
  readonly nbytes: number
}

export interface AssignDecision {
  readonly type: 'assign'
  readonly key: string
  readonly workerId: string
  /** 1 for the first run; each retry after an error adds one. */
  readonly attempt: number
  readonly deps: readonly DepLocation[]
}

export interface StoreDecision {
  readonly type: 'store'
  readonly key: string
  readonly workerId: string
}

export interface CancelOnWorkerDecision {
  readonly type: 'cancel-on-worker'
  readonly key: string
  readonly workerId: string
}

export interface StealRequestDecision {
  readonly type: 'steal-request'
  readonly key: string
  readonly victimId: string
  readonly thiefId: string
}

export interface ReleaseDataDecision {
  readonly type: 'release-data'
  readonly key: string
  readonly workerIds: readonly string[]
}

export interface ForgottenDecision {
  readonly type: 'forgotten'
  readonly key: string
}

export interface MemoryDecision {
  readonly type: 'memory'
  readonly key: string
  readonly workerId: string
  readonly nbytes: number
}

export interface ErredDecision {
  readonly type: 'erred'
  readonly key: string
  readonly workerId: string
  readonly attempt: number
}

export interface RetryDecision {
  readonly type: 'retry'
  readonly key: string
  readonly attempt: number
}

export interface FailedDecision {
  readonly type: 'failed'
  readonly key: string
  readonly reason: FailReason
  /** A sentence for the error message. */
  readonly message: string
  /** killed-worker: the workers that died while running it (names), in order. */
  readonly workers?: readonly string[]
  /** dependency: the dependency that failed, was cancelled or is unknown. */
  readonly dependency?: string
}

export interface RecomputingDecision {
  readonly type: 'recomputing'
  readonly key: string
  /** The worker whose departure lost the data. */
  readonly lostOn: string
}

export type Decision =
  | AssignDecision
  | StoreDecision
  | CancelOnWorkerDecision
  | StealRequestDecision
  | ReleaseDataDecision
  | ForgottenDecision
  | MemoryDecision
  | ErredDecision
  | RetryDecision
  | FailedDecision
  | RecomputingDecision
