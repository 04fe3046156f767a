// The simulator's inputs and outputs (see `simulate`).
import type { Decision } from './decisions.js'
import type { SchedulerOptions } from './options.js'
import type { Scheduler } from './scheduler.js'

export interface SimWorker {
  readonly id: string
  readonly procs: number
  /** Work done per millisecond relative to the task's `durationMs`. Default 1. */
  readonly speed?: number
  /** Joins at this time. Milliseconds; default 0. */
  readonly joinAtMs?: number
  /** Dies at this time (what it runs and holds is lost). Milliseconds; default never. */
  readonly leaveAtMs?: number
  readonly resources?: Readonly<Record<string, number>>
  readonly name?: string
  readonly host?: string
}

export interface SimTask {
  readonly key: string
  /** Compute time at speed 1. Milliseconds. */
  readonly durationMs: number
  /** Default 'fn'. */
  readonly fnKey?: string
  readonly deps?: readonly string[]
  readonly priority?: number
  readonly resources?: Readonly<Record<string, number>>
  readonly workers?: readonly string[]
  readonly allowOtherWorkers?: boolean
  readonly retries?: number
  /** Result size. Bytes; default 0. */
  readonly nbytes?: number
  /** Submitted at this time. Milliseconds; default 0. */
  readonly submitAtMs?: number
  /** The function throws on its first `failTimes` runs. Default 0. */
  readonly failTimes?: number
}

export interface SimOptions {
  readonly scheduler?: SchedulerOptions
  /** One-way message latency between coordinator and workers. Milliseconds; default 0.05. */
  readonly latencyMs?: number
  /** Coordinator tick period. Milliseconds; default 100. */
  readonly tickMs?: number
  /** Workers report starts (taskStarted). Default true. */
  readonly reportStarts?: boolean
  /** Speed of input fetches between workers. Bytes per second; default 100e6. */
  readonly bandwidthBytesPerSecond?: number
  /** Stop the simulation at this time even if tasks remain. Milliseconds; default 1e9. */
  readonly maxTimeMs?: number
  /** Called after every event, for invariant checks. */
  readonly onEvent?: (sim: SimInspector) => void
  /** Called with each batch of decisions, in order. */
  readonly onDecisions?: (decisions: readonly Decision[], nowMs: number) => void
}

/** What `onEvent` can look at. */
export interface SimInspector {
  readonly nowMs: number
  readonly scheduler: Scheduler
  /** Ids of the live workers. */
  workerIds(): string[]
  /** Resources held on the worker by the tasks it has (waiting there or running). */
  heldResources(workerId: string): Record<string, number>
  /** Keys of tasks the worker has, waiting there or running. */
  heldKeys(workerId: string): string[]
  /** Keys the worker is running. */
  runningKeys(workerId: string): string[]
}

export interface SimWorkerResult {
  readonly id: string
  readonly tasksRun: number
  /** Process time spent running tasks (fetch included). Milliseconds. */
  readonly busyMs: number
}

export interface SimResult {
  /** When the coordinator learned the last task's outcome. Milliseconds. */
  readonly makespanMs: number
  /** Tasks that ended in memory / erred (function threw) / failed (scheduler gave up). */
  readonly finished: number
  readonly erred: number
  readonly failed: number
  /** All submitted tasks reached an outcome before `maxTimeMs`. */
  readonly complete: boolean
  /** The last outcome of each task that has one. */
  readonly outcomes: ReadonlyMap<string, 'memory' | 'erred' | 'failed'>
  readonly steals: { readonly requested: number; readonly ok: number }
  readonly workers: readonly SimWorkerResult[]
  readonly decisions: number
  readonly events: number
  readonly scheduler: Scheduler
}
