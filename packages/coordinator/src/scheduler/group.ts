import { TaskState } from './states.js'
import { TaskQueue } from './queue.js'
import type { TaskRecord } from './task.js'
import type { ResourceNeed, WorkerRecord } from './worker.js'

/**
 * The coordinator's queue is one priority queue per *group*: tasks with the same resources and
 * worker restrictions. Any worker that may run one task of a group may run them all, so a
 * worker picks the best head among the groups it can serve: O(groups + log n) per assignment,
 * with no scan past tasks it cannot run. Plain tasks all share one group.
 *
 * Entries leave the queue lazily: a queued task that is cancelled or moves on keeps its entry
 * until it reaches the top or a compaction (when stale entries outnumber live ones).
 */
export class QueueGroup {
  readonly sig: string
  readonly need: ResourceNeed | null
  readonly restrict: ReadonlySet<string> | null
  readonly allowOther: boolean
  readonly queue = new TaskQueue()
  /** Tasks of this group in the queued state (all have queue entries). */
  live = 0
  /** Task records pointing at this group; at 0 the group is dropped. */
  refs = 0
  /** Since when it has had queued tasks and no worker that could ever run them; -1 if it has one. */
  noWorkerSince = -1

  #epoch = -1
  #restrictedAvailable = false
  #anyWorker = false

  constructor(
    sig: string,
    need: ResourceNeed | null,
    restrict: ReadonlySet<string> | null,
    allowOther: boolean,
  ) {
    this.sig = sig
    this.need = need
    this.restrict = restrict
    this.allowOther = allowOther
  }

  /** The worker is one of those named in `workers` (by id, name or host). */
  matches(w: WorkerRecord): boolean {
    const r = this.restrict
    return r === null || r.has(w.name) || r.has(w.host) || r.has(w.id)
  }

  /** May `w` ever run this group's tasks (ignoring what it is busy with)? */
  canRun(w: WorkerRecord, workers: Iterable<WorkerRecord>, epoch: number): boolean {
    if (!w.hasResources(this.need)) return false
    if (this.restrict === null || this.matches(w)) return true
    if (!this.allowOther) return false
    this.#refresh(workers, epoch)
    return !this.#restrictedAvailable
  }

  /** Some connected worker could run this group's tasks. */
  hasWorker(workers: Iterable<WorkerRecord>, epoch: number): boolean {
    this.#refresh(workers, epoch)
    return this.#anyWorker
  }

  /** The best queued task, dropping stale entries on the way. */
  peekLive(): TaskRecord | undefined {
    for (;;) {
      const t = this.queue.peek()
      if (t === undefined || t.state === TaskState.QUEUED) return t
      this.queue.pop()
      t.inQueue = false
    }
  }

  push(t: TaskRecord): void {
    if (t.inQueue) return // its old entry is still there, in the right place (priority and seq never change)
    t.inQueue = true
    this.queue.push(t)
  }

  /** Removes stale entries once they outnumber live ones. */
  maybeCompact(): void {
    const stale = this.queue.size - this.live
    if (stale > 64 && stale > this.live) {
      this.queue.rebuild((t) => {
        const keep = t.state === TaskState.QUEUED
        if (!keep) t.inQueue = false
        return keep
      })
    }
  }

  #refresh(workers: Iterable<WorkerRecord>, epoch: number): void {
    if (this.#epoch === epoch) return
    this.#epoch = epoch
    let restricted = false
    let any = false
    for (const w of workers) {
      if (!w.hasResources(this.need)) continue
      any = any || this.restrict === null || this.allowOther
      if (this.matches(w)) {
        restricted = true
        any = true
        break
      }
    }
    this.#restrictedAvailable = restricted
    this.#anyWorker = any
  }
}

/**
 * The group key of a task's constraints; '' for a plain task. Resource and worker names come
 * from clients, so the key is JSON of the lists themselves, never names joined with a
 * separator: joined with commas, `workers: ['alpha,beta']` and `['alpha', 'beta']` made one
 * group, and a worker named `alpha,beta` took tasks meant for `alpha` or `beta`. `need` comes
 * sorted by name (`resourceNeed`); `restrict` is sorted here.
 */
export function groupSignature(
  need: ResourceNeed | null,
  restrict: readonly string[] | null,
  allowOther: boolean,
): string {
  if (need === null && restrict === null) return ''
  const w = restrict === null ? null : [...new Set(restrict)].sort()
  return JSON.stringify([need, w, allowOther])
}
