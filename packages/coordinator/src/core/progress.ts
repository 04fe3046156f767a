import type { FailReason } from '../scheduler/decisions.js'
import type { CoordinatorMetrics } from '../http/metrics.js'
import { progressColumn, type ClientTask } from './client-task.js'
import { Throughput } from './throughput.js'

/** Tasks of one function (by label) in each column of the dashboard's progress. */
export interface FunctionProgress {
  pending: number
  running: number
  done: number
  erred: number
}

/** Counts since the coordinator started (`GET /api/status`). */
export interface Totals {
  submitted: number
  finished: number
  erred: number
  cancelled: number
}

/**
 * What the coordinator counts of tasks: the per-function progress, the totals, the throughput,
 * and the matching Prometheus counters. Scattered data counts nowhere (it is not a task).
 *
 * A task's progress column follows its `ClientTaskState` (see `progressColumn`): it is moved
 * here just before the task's transition, so the column it leaves is the one it was in.
 */
export class TaskStats {
  /** Tasks per function label, in first-submitted order. */
  readonly progress = new Map<string, FunctionProgress>()
  readonly totals: Totals = { submitted: 0, finished: 0, erred: 0, cancelled: 0 }
  /** Tasks finished or erred per second. */
  readonly throughput = new Throughput()
  readonly #metrics: CoordinatorMetrics | undefined

  constructor(metrics: CoordinatorMetrics | undefined) {
    this.#metrics = metrics
  }

  /** The progress row of the function labelled `label`, made on first use. */
  row(label: string): FunctionProgress {
    let p = this.progress.get(label)
    if (!p) {
      p = { pending: 0, running: 0, done: 0, erred: 0 }
      this.progress.set(label, p)
    }
    return p
  }

  /** A task was accepted (the caller counts the metric once per message). */
  submitted(p: FunctionProgress): void {
    p.pending++
    this.totals.submitted++
  }

  /** `n` tasks of one `submit` message were accepted. */
  submitMessage(n: number): void {
    if (n > 0) this.#metrics?.tasksSubmitted.inc(n)
  }

  /** The task is about to be announced (`pending` → `running`). */
  announced(task: ClientTask): void {
    const p = task.progress
    if (p === undefined || progressColumn(task.state) !== 'pending') return
    p.pending--
    p.running++
  }

  /** The task is about to settle with `outcome`, or was forgotten before it ended (undefined). */
  ended(task: ClientTask, outcome: 'done' | 'erred' | undefined): void {
    const p = task.progress
    if (p === undefined) return
    switch (progressColumn(task.state)) {
      case 'pending':
        p.pending--
        break
      case 'running':
        p.running--
        break
      case undefined:
        return
    }
    if (outcome !== undefined) p[outcome]++
  }

  /** A `memory` decision for a task (throughput and metrics follow per batch, `batchFinished`). */
  finished(): void {
    this.totals.finished++
  }

  /** Counts the tasks finished since `totals.finished` was `before`: once per batch of decisions. */
  batchFinished(before: number): void {
    const done = this.totals.finished - before
    if (done <= 0) return
    this.throughput.add(done)
    this.#metrics?.tasksFinished.inc({ outcome: 'finished' }, done)
  }

  /** The function threw and no retries are left. */
  erred(): void {
    this.totals.erred++
    this.throughput.add(1)
    this.#metrics?.tasksFinished.inc({ outcome: 'erred' })
  }

  /** The scheduler gave up on the task. */
  failed(reason: FailReason): void {
    this.totals.erred++
    this.#metrics?.tasksFinished.inc({ outcome: reason })
  }

  cancelled(): void {
    this.totals.cancelled++
  }
}
