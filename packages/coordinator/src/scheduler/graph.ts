import type { SchedulerState } from './core.js'
import { DecisionType, type FailReason } from './decisions.js'
import { isActive, TaskState } from './states.js'
import type { TaskRecord } from './task.js'
import { zombify } from './slots.js'
import type { WorkerRecord } from './worker.js'

/**
 * The task graph: readiness, results, lost data and lineage, failure cascades, and when a
 * task's data is dropped and its record forgotten.
 *
 * Lifetime rules:
 * - data is kept while the client wants the key or a dependent still needs it
 *   (`pendingDependents > 0`); then the workers drop it and the record becomes `released`;
 * - a record is kept while any dependent is not forgotten (lineage: a lost result can be
 *   recomputed from its inputs); then it is forgotten.
 */

/**
 * Moves `t` to waiting (by `name`, or already waiting when new) and counts its missing
 * inputs. Inputs that were released are recomputed from lineage, transitively.
 */
export function enterWaiting(
  c: SchedulerState,
  t: TaskRecord,
  name: 'requeue' | 'recompute' | 'lose-input' | null,
): void {
  if (name !== null) c.transition(t, name)
  const stack = [t]
  for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
    let missing = 0
    let broken: TaskRecord | null = null
    for (const d of x.deps ?? []) {
      switch (d.state) {
        case TaskState.MEMORY:
          continue
        case TaskState.RELEASED:
          c.transition(d, 'recompute')
          stack.push(d)
          break
        case TaskState.WAITING:
        case TaskState.QUEUED:
        case TaskState.PROCESSING:
          break
        case TaskState.ERRED:
        case TaskState.CANCELLED:
        case TaskState.FORGOTTEN:
          broken = d
          break
      }
      missing++
    }
    x.waitingOn = missing
    if (broken !== null)
      failTask(c, x, 'dependency', dependencyMessage(x, broken), { dependency: broken.key })
    else if (missing === 0) c.ready.push(x)
  }
}

/**
 * A client put `t`'s value on `w` (`scatter`): in memory there at once. Its decisions are
 * `store` (send the value) and `memory` (the client's future is done).
 */
export function scatterTask(
  c: SchedulerState,
  t: TaskRecord,
  w: WorkerRecord,
  nbytes: number,
): void {
  t.scattered = true
  c.transition(t, 'scatter')
  t.nbytes = nbytes
  t.whoHas = [w]
  w.hasData.add(t)
  c.emit({ type: DecisionType.STORE, key: t.key, workerId: w.id })
  c.emit({ type: DecisionType.MEMORY, key: t.key, workerId: w.id, nbytes })
  c.settle.push(t)
}

/** The worker reported `t`'s result. The caller has detached it from `w`. */
export function finishTask(
  c: SchedulerState,
  t: TaskRecord,
  w: WorkerRecord,
  nbytes: number,
): void {
  c.transition(t, 'finish')
  holdOn(c, t, w, nbytes)
}

/** `t`'s value (`nbytes`) is in `w`'s memory now: dependents waiting only for it get ready. */
export function holdOn(c: SchedulerState, t: TaskRecord, w: WorkerRecord, nbytes: number): void {
  t.nbytes = nbytes
  t.whoHas = [w]
  w.hasData.add(t)
  c.emit({ type: DecisionType.MEMORY, key: t.key, workerId: w.id, nbytes })
  for (const d of t.dependents ?? []) {
    if (d.state === TaskState.WAITING && --d.waitingOn === 0) c.ready.push(d)
  }
  c.settle.push(t)
}

/**
 * `t` (in memory) lost its last copy with worker `lostOn`. Recompute it if it is still needed;
 * dependents that wait for it wait again, and those sent to other workers but not reported
 * started (they may be fetching from the dead worker) are called back.
 */
export function loseData(c: SchedulerState, t: TaskRecord, lostOn: WorkerRecord): void {
  t.whoHas = null
  if (!t.wanted && t.pendingDependents === 0) {
    c.transition(t, 'drop-data')
    c.settle.push(t)
    return
  }
  if (t.scattered) {
    loseScattered(c, t, lostOn)
    return
  }
  c.emit({ type: DecisionType.RECOMPUTING, key: t.key, lostOn: lostOn.name })
  enterWaiting(c, t, 'recompute')
  for (const d of t.dependents ?? []) {
    switch (d.state) {
      case TaskState.WAITING:
        d.waitingOn++
        break
      case TaskState.QUEUED:
        enterWaiting(c, d, 'lose-input')
        break
      case TaskState.PROCESSING:
        if (d.run !== null && d.run.worker !== lostOn && !d.run.startReported) {
          zombify(c, d)
          enterWaiting(c, d, 'requeue')
        }
        break
      case TaskState.MEMORY:
      case TaskState.ERRED:
      case TaskState.CANCELLED:
      case TaskState.RELEASED:
      case TaskState.FORGOTTEN:
        break
    }
  }
}

/**
 * Scattered `t` lost its last copy: it fails (`data-lost`), and so do the dependents that still
 * need it — those not yet started (waiting, queued, or sent elsewhere but not reported started).
 * Dependents already running have their input and go on.
 */
function loseScattered(c: SchedulerState, t: TaskRecord, lostOn: WorkerRecord): void {
  c.transition(t, 'lose')
  c.emit({
    type: DecisionType.FAILED,
    key: t.key,
    reason: 'data-lost',
    message: `scattered data ${t.key} was lost with worker ${lostOn.name}, its only holder`,
  })
  for (const d of [...(t.dependents ?? [])]) {
    const started = d.run !== null && d.run.worker !== lostOn && d.run.startReported
    if (!isActive(d.state) || started) continue
    failTask(c, d, 'dependency', dependencyMessage(d, t), { dependency: t.key })
  }
  c.settle.push(t)
}

/** The scheduler gives up on `t`; its dependents fail with reason `dependency`. */
export function failTask(
  c: SchedulerState,
  t: TaskRecord,
  reason: FailReason,
  message: string,
  extra: { workers?: readonly string[]; dependency?: string } = {},
): void {
  if (t.state === TaskState.PROCESSING) zombify(c, t)
  c.transition(t, 'fail')
  c.emit({ type: DecisionType.FAILED, key: t.key, reason, message, ...extra })
  failDependents(c, t)
  c.settle.push(t)
}

/** The function threw and no retries are left. The caller has detached it. */
export function errTask(c: SchedulerState, t: TaskRecord, w: WorkerRecord): void {
  c.transition(t, 'err')
  c.emit({ type: DecisionType.ERRED, key: t.key, workerId: w.id, attempt: t.attempt })
  failDependents(c, t)
  c.settle.push(t)
}

export function cancelTask(c: SchedulerState, t: TaskRecord): void {
  if (t.state === TaskState.PROCESSING) zombify(c, t)
  c.transition(t, 'cancel')
  failDependents(c, t)
  c.settle.push(t)
}

/** Fails every active dependent of `root`, transitively (iteratively: chains may be long). */
function failDependents(c: SchedulerState, root: TaskRecord): void {
  const stack = [root]
  for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
    for (const d of x.dependents ?? []) {
      if (!isActive(d.state)) continue
      if (d.state === TaskState.PROCESSING) zombify(c, d)
      c.transition(d, 'fail')
      c.emit({
        type: DecisionType.FAILED,
        key: d.key,
        reason: 'dependency',
        message: dependencyMessage(d, x),
        dependency: x.key,
      })
      c.settle.push(d)
      stack.push(d)
    }
  }
}

/** Drops data or forgets the record once nobody needs it (see the lifetime rules above). */
export function settle(c: SchedulerState, t: TaskRecord): void {
  if (t.state === TaskState.FORGOTTEN || t.wanted || t.pendingDependents > 0) return
  switch (t.state) {
    case TaskState.PROCESSING:
      zombify(c, t)
      c.transition(t, 'stop')
      break
    case TaskState.WAITING:
    case TaskState.QUEUED:
      c.transition(t, 'stop')
      break
    case TaskState.MEMORY:
      dropData(c, t)
      break
    case TaskState.ERRED:
    case TaskState.CANCELLED:
    case TaskState.RELEASED:
      break
  }
  if (t.liveDependents === 0) forget(c, t)
}

function dropData(c: SchedulerState, t: TaskRecord): void {
  const holders = t.whoHas ?? []
  if (holders.length > 0) {
    c.emit({ type: DecisionType.RELEASE_DATA, key: t.key, workerIds: holders.map((w) => w.id) })
  }
  for (const w of holders) w.hasData.delete(t)
  t.whoHas = null
  c.transition(t, 'drop-data')
}

function forget(c: SchedulerState, t: TaskRecord): void {
  c.transition(t, 'forget')
  c.tasks.delete(t.key)
  c.emit({ type: DecisionType.FORGOTTEN, key: t.key })
  const g = t.group
  if (--g.refs === 0 && c.groups.get(g.sig) === g) c.groups.delete(g.sig)
  for (const d of t.deps ?? []) {
    d.liveDependents--
    const list = d.dependents
    if (list !== null && list.length > 2 * d.liveDependents + 8) {
      d.dependents = list.filter((x) => x.state !== TaskState.FORGOTTEN)
    }
    c.settle.push(d)
  }
  t.deps = null
  t.dependents = null
}

function dependencyMessage(t: TaskRecord, dep: TaskRecord): string {
  const what =
    dep.scattered && dep.state === TaskState.ERRED
      ? 'was lost with its worker'
      : dep.state === TaskState.CANCELLED
        ? 'was cancelled'
        : dep.state === TaskState.FORGOTTEN
          ? 'is unknown (released or never submitted)'
          : 'failed'
  return `task ${t.key} cannot run: its dependency ${dep.key} ${what}`
}
