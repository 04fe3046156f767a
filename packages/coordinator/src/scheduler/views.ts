import type { SchedulerState } from './core.js'
import { countNoWorker } from './placement.js'
import type { TaskState, WorkerRecordState } from './states.js'
import type { TaskRecord } from './task.js'
import type { WorkerRecord } from './worker.js'

/** A worker as the status page shows it. */
export interface WorkerView {
  readonly id: string
  readonly name: string
  readonly host: string
  readonly procs: number
  readonly state: WorkerRecordState
  /** Estimated remaining work assigned to it. Milliseconds (divide by `procs` for wall time). */
  readonly occupancyMs: number
  /** Tasks running (reported, or within its first `procs` assigned). */
  readonly processing: number
  /** Tasks assigned and waiting there for a process. */
  readonly queued: number
  /** Of the running tasks, those waiting for their executors' futures (they hold no slot). */
  readonly seceded: number
  /** Tasks it finished / that erred on it, since it joined. */
  readonly done: number
  readonly failed: number
  readonly resources: Readonly<Record<string, number>>
  readonly usedResources: Readonly<Record<string, number>>
  /** Results it holds: how many, and their total size in bytes. */
  readonly dataKeys: number
  readonly dataBytes: number
  /** The measured round trip to it (see `WorkerRecord.roundTripMs`). Milliseconds. */
  readonly roundTripMs: number
}

/** Task records by state, plus `noWorker` (queued tasks no connected worker could run, a subset of `queued`). */
export type TaskCounts = Readonly<Record<Exclude<TaskState, 'forgotten'>, number>> & {
  /** Forgotten since the scheduler started (a running total). */
  readonly forgotten: number
  readonly noWorker: number
  /** Records currently held. */
  readonly total: number
}

export interface EstimateView {
  readonly fnKey: string
  readonly estimateMs: number
  /** Finished runs behind the estimate; 0 means it is the default or raised by a long run. */
  readonly observed: number
  /** How far runs typically fall from the estimate (decides whether prefetching pays). Milliseconds. */
  readonly spreadMs: number
}

export interface TaskView {
  readonly key: string
  readonly state: TaskState
  readonly clientId: string
  readonly priority: number
  readonly attempt: number
  /** Worker it is assigned to (processing), else null. */
  readonly workerId: string | null
  /** Workers holding its result (memory). */
  readonly whoHas: readonly string[]
  readonly nbytes: number
  /** Times a worker died while it (possibly) ran it. */
  readonly suspicious: number
}

export function workerView(w: WorkerRecord): WorkerView {
  let running = 0
  for (const a of w.assigned) if (a.startedAt >= 0 || a.startReported) running++
  let dataBytes = 0
  for (const t of w.hasData) dataBytes += t.nbytes
  return {
    id: w.id,
    name: w.name,
    host: w.host,
    procs: w.procs,
    state: w.state,
    occupancyMs: w.occupancyMs,
    processing: running,
    queued: w.assigned.size - running,
    seceded: w.seceded,
    done: w.done,
    failed: w.failed,
    resources: Object.fromEntries(w.resources),
    usedResources: Object.fromEntries(w.used),
    dataKeys: w.hasData.size,
    dataBytes,
    roundTripMs: w.roundTripMs,
  }
}

export function taskCounts(c: SchedulerState): TaskCounts {
  return { ...c.counts, noWorker: countNoWorker(c), total: c.tasks.size }
}

export function estimateViews(c: SchedulerState): EstimateView[] {
  return [...c.estimates.values()].map((s) => ({
    fnKey: s.fnKey,
    estimateMs: s.estimateMs,
    observed: s.observed,
    spreadMs: s.spreadMs,
  }))
}

export function taskView(t: TaskRecord): TaskView {
  return {
    key: t.key,
    state: t.state,
    clientId: t.clientId,
    priority: t.priority,
    attempt: t.attempt,
    workerId: t.worker?.id ?? null,
    whoHas: (t.whoHas ?? []).map((w) => w.id),
    nbytes: t.nbytes,
    suspicious: t.suspicious,
  }
}
