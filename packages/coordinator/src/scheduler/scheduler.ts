import { shouldRetry } from '@clusterpool/protocol'

import { adoptData, adoptRun, isParked, loseClaim, park, storeParked, unpark } from './adopt.js'
import { SchedulerState } from './core.js'
import { type Decision, DecisionType } from './decisions.js'
import { cancelTask, enterWaiting, errTask, failTask, finishTask, scatterTask } from './graph.js'
import { joinWorker, leaveWorker, loseCopy } from './membership.js'
import { resolveSchedulerOptions, type SchedulerOptions } from './options.js'
import { checkNoWorker, flush } from './placement.js'
import { isActive, TaskState, WorkerRecordState } from './states.js'
import { planSteals } from './stealing.js'
import type { TaskRecord } from './task.js'
import type { WorkerRecord } from './worker.js'
import {
  attach,
  consumeZombie,
  abortSteal,
  detach,
  refreshHungry,
  setSeceded,
  refreshOccupancy,
  sampleRoundTrip,
} from './slots.js'
import {
  createTask,
  type ErrorReport,
  type FinishReport,
  type ScatterSpec,
  type TaskSpec,
  type WorkerSpec,
} from './specs.js'
import {
  estimateViews,
  taskCounts,
  taskView,
  workerView,
  type EstimateView,
  type TaskCounts,
  type TaskView,
  type WorkerView,
} from './views.js'

/** The function key of scattered data (it has no function; estimates never see it run). */
const SCATTER_FN = '<scatter>'

/**
 * The coordinator's scheduler: pure and deterministic. Events go in (with the time, in ms,
 * from any monotonic clock), decisions come out through `takeDecisions()`. No I/O, no timers:
 * the coordinator calls `tick` every ~100 ms.
 *
 * "Started": the worker runs assigned tasks in the order received. The scheduler takes the
 * first `procs` not-finished tasks of a worker as running even before `taskStarted` arrives
 * (they are never stolen and count as suspicious if the worker dies); `taskStarted` makes it
 * exact for the others. Stealing is transactional anyway: the victim confirms.
 *
 * Input errors throw: InvalidOptionError for a malformed spec or option, InvalidStateError for
 * a duplicate key or worker id. Reports about unknown keys or workers are ignored (they race with
 * removals); a result nobody wants any more is answered with `release-data`.
 *
 * ```ts
 * const s = new Scheduler()
 * s.addWorker({ id: 'w1', procs: 4 }, now())
 * s.submit({ key: 'k1', fnKey, clientId }, now())
 * for (const d of s.takeDecisions()) send(d) // { type: 'assign', key: 'k1', workerId: 'w1', attempt: 1, deps: [] }
 * ```
 *
 * See `states.ts` (state machines), `placement.ts` (queue, locality), `slots.ts` (caps,
 * prefetch, occupancy), `stealing.ts`,
 * `graph.ts` (dependencies, lineage, lifetimes), `membership.ts` (workers joining and dying) and
 * `estimates.ts`.
 */
/** What a fresh submit does next: wait for its inputs (one function object, not one per call). */
const waitFresh = (c: SchedulerState, task: TaskRecord): void => enterWaiting(c, task, null)
/** What a parked submit does next: wait for an inventory to say where it is. */
const parkFresh = (_c: SchedulerState, task: TaskRecord): void => park(task)

/** What a reporting worker is to a task: see `Scheduler.reporter`. */
export const Reporter = { STRANGER: 0, HOLDER: 1, ZOMBIE: 2 } as const
export type Reporter = (typeof Reporter)[keyof typeof Reporter]

export class Scheduler {
  readonly #c: SchedulerState
  /** Open `batch` calls: while above 0, inputs queue their effects and one flush ends the batch. */
  #depth = 0

  constructor(options?: SchedulerOptions) {
    this.#c = new SchedulerState(resolveSchedulerOptions(options))
  }

  addWorker(spec: WorkerSpec, nowMs: number): void {
    const c = this.#start(nowMs)
    joinWorker(c, spec)
    this.#flush(c)
  }

  /** The worker is gone (lost or left): its tasks are requeued, its data is lost. */
  removeWorker(id: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(id)
    if (w === undefined) return
    leaveWorker(c, w)
    this.#flush(c)
  }

  /** The worker should get no new tasks for now (it keeps its tasks and data). */
  pauseWorker(id: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(id)
    if (w === undefined || w.state !== WorkerRecordState.RUNNING) return
    w.state = WorkerRecordState.PAUSED
    refreshHungry(c, w)
  }

  resumeWorker(id: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(id)
    if (w === undefined || w.state !== WorkerRecordState.PAUSED) return
    w.state = WorkerRecordState.RUNNING
    refreshHungry(c, w)
    this.#flush(c)
  }

  /** The worker's resident memory as a fraction of its limit (its heartbeat). */
  workerMemory(id: string, fraction: number): void {
    const w = this.#c.workers.get(id)
    if (w !== undefined && Number.isFinite(fraction)) w.memoryFraction = Math.max(0, fraction)
  }

  submit(spec: TaskSpec, nowMs: number): void {
    this.#submit(spec, nowMs, waitFresh)
  }

  /** Makes the task; one with an unknown dependency fails, the others go on as `then` says. */
  #submit(
    spec: TaskSpec,
    nowMs: number,
    then: (c: SchedulerState, task: TaskRecord) => void,
  ): void {
    const c = this.#start(nowMs)
    const { task, unknown } = createTask(c, spec)
    if (unknown !== null) {
      const message = `task ${task.key} cannot run: its dependency ${unknown} is unknown (released or never submitted)`
      failTask(c, task, 'dependency', message, { dependency: unknown })
    } else {
      then(c, task)
    }
    this.#flush(c)
  }

  /**
   * A client puts a value on the cluster: it goes to the running worker (among `workers`, if
   * given) holding the fewest results, then the least occupied. Decisions: `store` and `memory`,
   * or `failed` (`no-worker`) when no worker may take it. The value has no lineage: if its
   * worker is lost it fails with `data-lost`, and so do its dependents that have not started.
   */
  scatter(spec: ScatterSpec, nowMs: number): void {
    const c = this.#start(nowMs)
    const { task } = createTask(c, {
      key: spec.key,
      fnKey: SCATTER_FN,
      clientId: spec.clientId,
      ...(spec.workers === undefined ? {} : { workers: spec.workers }),
    })
    let best: WorkerRecord | undefined
    for (const w of c.workers.values()) {
      if (w.state !== WorkerRecordState.RUNNING || !task.group.matches(w)) continue
      if (
        best === undefined ||
        w.hasData.size < best.hasData.size ||
        (w.hasData.size === best.hasData.size && w.occupancyMs < best.occupancyMs)
      )
        best = w
    }
    if (best === undefined) {
      const where = spec.workers === undefined ? '' : ` matching ${spec.workers.join(', ')}`
      failTask(c, task, 'no-worker', `no running worker${where} can take scattered data`)
    } else {
      scatterTask(c, task, best, Math.max(0, spec.nbytes))
    }
    this.#flush(c)
  }

  // ─── re-adoption after a coordinator restart (`adopt.ts`) ────────────────────────────────

  /**
   * Submits a task that waits, parked, for a worker's inventory to name it (`adopt`) or for its
   * grace period to end (`unpark`). A dependency that is unknown fails it, as in `submit`.
   */
  submitParked(spec: TaskSpec, nowMs: number): void {
    this.#submit(spec, nowMs, parkFresh)
  }

  /** A client claims a held value it had before the restart: parked until an inventory names it. */
  claimHeld(spec: Pick<ScatterSpec, 'key' | 'clientId' | 'workers'>, nowMs: number): void {
    const c = this.#start(nowMs)
    const { task } = createTask(c, {
      key: spec.key,
      fnKey: SCATTER_FN,
      clientId: spec.clientId,
      ...(spec.workers === undefined ? {} : { workers: spec.workers }),
    })
    park(task)
  }

  /**
   * Scattered data parked (created with `claimHeld`) goes to the worker that would take a
   * scatter now. False if it is not parked or no worker may take it yet.
   */
  storeParked(key: string, nbytes: number, nowMs: number): boolean {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    if (t === undefined || !isParked(t) || t.fn.fnKey !== SCATTER_FN) return false
    let best: WorkerRecord | undefined
    for (const w of c.workers.values()) {
      if (w.state !== WorkerRecordState.RUNNING || !t.group.matches(w)) continue
      if (best === undefined || w.hasData.size < best.hasData.size) best = w
    }
    if (best === undefined) return false
    storeParked(c, t, best, Math.max(0, nbytes))
    this.#flush(c)
    return true
  }

  /** Whether `key` waits, parked, for an inventory. */
  parked(key: string): boolean {
    const t = this.#c.tasks.get(key)
    return t !== undefined && isParked(t)
  }

  /** Worker `workerId` still has the parked task `key` (running, or its report kept). False if not parked. */
  adopt(key: string, workerId: string, nowMs: number): boolean {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    const w = c.workers.get(workerId)
    if (t === undefined || w === undefined || !isParked(t) || t.fn.fnKey === SCATTER_FN)
      return false
    adoptRun(c, t, w)
    this.#flush(c)
    return true
  }

  /** Worker `workerId` holds the parked claimed value `key` (`nbytes` long). False if not parked. */
  adoptHeld(key: string, workerId: string, nbytes: number, nowMs: number): boolean {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    const w = c.workers.get(workerId)
    if (t === undefined || w === undefined || !isParked(t) || t.fn.fnKey !== SCATTER_FN)
      return false
    adoptData(c, t, w, Math.max(0, nbytes))
    this.#flush(c)
    return true
  }

  /** The grace period is over and no inventory named `key`: a task runs as usual, a claimed value is lost. */
  giveUpAdoption(key: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    if (t === undefined || !isParked(t)) return
    if (t.fn.fnKey === SCATTER_FN) loseClaim(c, t)
    else unpark(c, t)
    this.#flush(c)
  }

  /** The worker now also holds the key's result (it received it as an input and kept it). */
  addReplica(key: string, workerId: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    const w = c.workers.get(workerId)
    if (t === undefined || w === undefined || t.state !== TaskState.MEMORY) return
    if (t.whoHas === null) t.whoHas = [w]
    else if (!t.whoHas.includes(w)) t.whoHas.push(w)
    w.hasData.add(t)
  }

  /**
   * The worker no longer holds the key's value (its spill file was unreadable). With other
   * holders nothing else changes; with none, the value is lost: computed again from its lineage
   * if still needed, or, scattered, failed with `data-lost`.
   */
  dataLost(key: string, workerId: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    const w = c.workers.get(workerId)
    if (t === undefined || w === undefined || !w.hasData.has(t)) return
    loseCopy(c, t, w)
    this.#flush(c)
  }

  /** The worker began running the task: from now on it is never stolen. */
  taskStarted(key: string, workerId: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    const a = t?.run
    if (a === undefined || a === null || a.worker.id !== workerId) return
    a.startReported = true
    a.noSteal = true
    a.startedAt = nowMs
  }

  /** The worker reports a result; it stays on that worker. */
  taskFinished(key: string, workerId: string, report: FinishReport, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(workerId)
    if (w === undefined) return // gone: its data is unreachable
    const nbytes = report.nbytes !== undefined && report.nbytes > 0 ? report.nbytes : 0
    const t = c.tasks.get(key)
    if (
      consumeZombie(c, w, key) ||
      t === undefined ||
      t.state !== TaskState.PROCESSING ||
      t.worker !== w
    ) {
      // A stale result (a task the worker was told to drop, or one it does not hold): dropped
      // there. Never kept as a replica: replicas are only where the coordinator relayed one,
      // and the key may be in memory on another worker (which keeps its own copy).
      if (t?.whoHas?.includes(w) !== true)
        c.emit({ type: DecisionType.RELEASE_DATA, key, workerIds: [w.id] })
      this.#flush(c)
      return
    }
    c.estimates.observe(t.fn, report.durationMs)
    if (t.run !== null) sampleRoundTrip(c, t.run, report.durationMs)
    detach(c, t)
    w.done++
    finishTask(c, t, w, nbytes)
    this.#flush(c)
  }

  /** The task's function threw on the worker: retry if it has retries left (and the run was not `final`), else it erred. */
  taskErred(key: string, workerId: string, report: ErrorReport, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(workerId)
    if (w === undefined) return
    const t = c.tasks.get(key)
    if (
      consumeZombie(c, w, key) ||
      t === undefined ||
      t.state !== TaskState.PROCESSING ||
      t.worker !== w
    ) {
      this.#flush(c)
      return
    }
    detach(c, t)
    w.failed++
    if (shouldRetry(t.retries, t.attempt, { aborted: report.final === true })) {
      t.attempt++
      c.emit({ type: DecisionType.RETRY, key, attempt: t.attempt })
      enterWaiting(c, t, 'requeue')
    } else {
      errTask(c, t, w)
    }
    this.#flush(c)
  }

  /** The worker will not run the task (answer to cancel-on-worker, or its own decision): free the slot; requeue if still wanted there. */
  /**
   * The task `key`, running on `workerId`, waits for its executor's futures (`seceded` true) or
   * runs again (false): its slot is free meanwhile, and the worker may be given another task.
   * Ignored unless `workerId` holds the task.
   */
  seceded(key: string, workerId: string, seceded: boolean, nowMs: number): void {
    const c = this.#start(nowMs)
    const a = c.tasks.get(key)?.run
    if (a === undefined || a === null || a.worker.id !== workerId) return
    // It runs (it waits for its children): a steal asked for meanwhile cannot succeed.
    if (a.steal !== null) abortSteal(c, a)
    if (a.startedAt < 0) a.startedAt = c.now
    setSeceded(c, a, seceded)
    this.#flush(c)
  }

  taskDropped(key: string, workerId: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const w = c.workers.get(workerId)
    if (w === undefined) return
    const t = c.tasks.get(key)
    if (
      !consumeZombie(c, w, key) &&
      t !== undefined &&
      t.state === TaskState.PROCESSING &&
      t.worker === w
    ) {
      detach(c, t)
      enterWaiting(c, t, 'requeue')
    }
    this.#flush(c)
  }

  /**
   * Cancels a task that has not finished; its dependents fail (reason `dependency`). A task on a
   * worker is told to drop there (`cancel-on-worker`). False when it had already finished,
   * failed or was cancelled, or is unknown.
   */
  cancel(key: string, nowMs: number): boolean {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    if (t === undefined || !isActive(t.state)) return false
    cancelTask(c, t)
    this.#flush(c)
    return true
  }

  /** No future refers to the key any more. Its data is dropped and its record forgotten once no dependent needs them. */
  release(key: string, nowMs: number): void {
    const c = this.#start(nowMs)
    const t = c.tasks.get(key)
    if (t === undefined || !t.wanted) return
    t.wanted = false
    c.settle.push(t)
    this.#flush(c)
  }

  /**
   * The victim's answer to a steal-request: `ok` means it gave the task up (it had not started),
   * and the thief gets it; if the thief is gone meanwhile, the task goes back to the queue.
   */
  stealReply(key: string, victimId: string, ok: boolean, nowMs: number): void {
    const c = this.#start(nowMs)
    const victim = c.workers.get(victimId)
    if (victim === undefined) return
    if (ok && consumeZombie(c, victim, key)) {
      this.#flush(c)
      return
    }
    const t = c.tasks.get(key)
    const a = t?.run
    if (t === undefined || a === undefined || a === null || a.worker !== victim) return
    const thief = a.steal
    abortSteal(c, a)
    if (!ok) {
      a.noSteal = true
      return
    }
    detach(c, t)
    if (
      thief !== null &&
      c.workers.get(thief.id) === thief &&
      thief.state === WorkerRecordState.RUNNING &&
      thief.resourcesFree(t.group.need)
    ) {
      attach(c, t, thief)
    } else {
      enterWaiting(c, t, 'requeue')
    }
    this.#flush(c)
  }

  /** Periodic (~100 ms): raise estimates of overrunning tasks, refresh occupancy, time out no-worker tasks, steal. */
  tick(nowMs: number): void {
    const c = this.#start(nowMs)
    for (const w of c.workers.values()) {
      for (const a of w.assigned) {
        // A seceded task waits for its children: its time says nothing of its function's.
        if (a.startedAt >= 0 && !a.seceded) c.estimates.raise(a.task.fn, nowMs - a.startedAt)
      }
    }
    for (const w of c.workers.values()) refreshOccupancy(c, w)
    if (Number.isFinite(c.o.noWorkerTimeoutMs)) checkNoWorker(c)
    this.#flush(c)
    if (c.o.workStealing) planSteals(c)
  }

  /** The decisions made since the last call, in order. */
  takeDecisions(): Decision[] {
    const d = this.#c.decisions
    this.#c.decisions = []
    return d
  }

  workers(): WorkerView[] {
    return [...this.#c.workers.values()].map(workerView)
  }

  worker(id: string): WorkerView | undefined {
    const w = this.#c.workers.get(id)
    return w === undefined ? undefined : workerView(w)
  }

  taskCounts(): TaskCounts {
    return taskCounts(this.#c)
  }

  estimates(): EstimateView[] {
    return estimateViews(this.#c)
  }

  task(key: string): TaskView | undefined {
    const t = this.#c.tasks.get(key)
    return t === undefined ? undefined : taskView(t)
  }

  /**
   * What worker `workerId` is to the task `key` when it reports on it (a result, an error, a
   * steal reply): its `HOLDER` (the task is processing there, a steal of it may be in flight),
   * a `ZOMBIE` (it was told to drop the task and has not answered yet: its answer is expected,
   * its value is not wanted), or a `STRANGER`, whose report nobody asked for. O(1), allocates
   * nothing: it runs once per result.
   */
  reporter(key: string, workerId: string): Reporter {
    const c = this.#c
    const w = c.workers.get(workerId)
    if (w === undefined) return Reporter.STRANGER
    if (w.zombies.size > 0 && w.zombies.has(key)) return Reporter.ZOMBIE
    const t = c.tasks.get(key)
    return t !== undefined && t.state === TaskState.PROCESSING && t.worker === w
      ? Reporter.HOLDER
      : Reporter.STRANGER
  }

  /** Ids of the workers holding the key's result (empty unless it is in memory). */
  whoHas(key: string): string[] {
    return (this.#c.tasks.get(key)?.whoHas ?? []).map((w) => w.id)
  }

  /**
   * Runs `body`, whose inputs (a frame's worth of submits, results, releases) are then acted on
   * together: placement, dispatch and stealing run once at the end, not once per input. The
   * decisions are the same as one input at a time would give, except that a batch of tasks is
   * placed knowing all of it (the coordinator batches each frame it reads). `nowAtEnd` gives
   * the time at the end, if it has moved since the inputs' own.
   */
  batch<T>(body: () => T, nowAtEnd?: () => number): T {
    this.#depth++
    try {
      return body()
    } finally {
      if (--this.#depth === 0) {
        // The decisions are made now: what they stamp (when a task was sent, and so the
        // round trip measured from it) is the time they leave, not when the batch began.
        flush(nowAtEnd === undefined ? this.#c : this.#start(nowAtEnd()))
      }
    }
  }

  #flush(c: SchedulerState): void {
    if (this.#depth === 0) flush(c)
  }

  #start(nowMs: number): SchedulerState {
    if (nowMs > this.#c.now) this.#c.now = nowMs
    return this.#c
  }
}
