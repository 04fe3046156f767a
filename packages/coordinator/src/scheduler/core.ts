import { nextState } from '@clusterpool/protocol'

import type { Decision } from './decisions.js'
import { Estimates } from './estimates.js'
import type { QueueGroup } from './group.js'
import type { ResolvedSchedulerOptions } from './options.js'
import { isActive, TASK_TRANSITIONS, TaskState, type TaskTransition } from './states.js'
import type { TaskRecord } from './task.js'
import type { WorkerRecord } from './worker.js'

/** The round trip assumed before any is measured, when the `roundTripMs` option is 0 or Infinity. Milliseconds. */
const INITIAL_ROUND_TRIP_MS = 1

/**
 * The scheduler's state, shared by the modules that act on it (slots, graph, placement,
 * stealing). Task states change only through `transition`, which checks the move against
 * `TASK_TRANSITIONS` and keeps the counters that other rules rely on.
 */
export class SchedulerState {
  readonly o: ResolvedSchedulerOptions
  readonly bytesPerMs: number
  readonly estimates: Estimates
  readonly tasks = new Map<string, TaskRecord>()
  readonly workers = new Map<string, WorkerRecord>()
  /** Every group some task refers to, by signature. */
  readonly groups = new Map<string, QueueGroup>()
  /** Groups with queued tasks. */
  readonly active = new Set<QueueGroup>()
  /** Running workers below their base cap. */
  readonly hungry = new Set<WorkerRecord>()
  /** Running workers below their tiny-task cap (a superset of `hungry`). */
  readonly hungryTiny = new Set<WorkerRecord>()
  readonly counts: Record<TaskState, number> = {
    waiting: 0,
    queued: 0,
    processing: 0,
    memory: 0,
    erred: 0,
    cancelled: 0,
    released: 0,
    forgotten: 0,
  }
  /** Worklist: waiting tasks whose dependencies are all in memory. */
  readonly ready: TaskRecord[] = []
  /** Worklist: tasks whose need may have ended (release data, forget). */
  readonly settle: TaskRecord[] = []
  decisions: Decision[] = []
  /** Bumped whenever the set of workers changes (group validity caches key on it). */
  epoch = 0
  /** Counts `flush`es (placement.ts): tasks attached under one number left in one frame. */
  flushSeq = 0
  seq = 0
  queuedLive = 0
  now = 0
  constructor(o: ResolvedSchedulerOptions) {
    this.o = o
    this.bytesPerMs = o.bandwidthBytesPerSecond / 1000
    this.estimates = new Estimates(o.defaultDurationMs, o.tinyTaskMs)
    this.estimates.roundTripMs =
      Number.isFinite(o.roundTripMs) && o.roundTripMs > 0 ? o.roundTripMs : INITIAL_ROUND_TRIP_MS
  }

  emit(d: Decision): void {
    this.decisions.push(d)
  }

  canRun(t: TaskRecord, w: WorkerRecord): boolean {
    return t.group.canRun(w, this.workers.values(), this.epoch)
  }

  /** Moves a task along a named transition; throws on an illegal move (a scheduler bug). */
  transition(t: TaskRecord, name: TaskTransition): void {
    const from = t.state
    const to = nextState(TASK_TRANSITIONS, name, from, 'scheduler: task', t.key)
    t.state = to
    this.counts[from]--
    this.counts[to]++
    if (from === TaskState.QUEUED) {
      const g = t.group
      g.live--
      this.queuedLive--
      if (g.live === 0) {
        this.active.delete(g)
        g.noWorkerSince = -1
      }
      g.maybeCompact()
    } else if (to === TaskState.QUEUED) {
      const g = t.group
      g.push(t)
      if (g.live++ === 0) this.active.add(g)
      this.queuedLive++
    }
    const wasActive = isActive(from)
    if (wasActive !== isActive(to) && t.deps !== null) {
      for (const d of t.deps) {
        if (wasActive) {
          if (--d.pendingDependents === 0) this.settle.push(d)
        } else {
          d.pendingDependents++
        }
      }
    }
  }
}
