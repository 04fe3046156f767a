import type { SchedulerState } from './core.js'
import { DecisionType } from './decisions.js'
import { enterWaiting, failTask, holdOn } from './graph.js'
import { attach } from './slots.js'
import { TaskState } from './states.js'
import type { TaskRecord } from './task.js'
import type { WorkerRecord } from './worker.js'

/**
 * Re-adoption after a coordinator restart: tasks and values the workers kept through the outage
 * (their inventories) are bound to the tasks the clients send again, instead of being computed
 * again. Three moves, on top of the usual transitions (`states.ts`):
 *
 * ```text
 *   submit ──► waiting (parked: waitingOn = ∞, never ready)
 *                 │ inventory names it         │ grace period over
 *                 ▼ place + attach (no steal)  ▼ enterWaiting (as a fresh submit)
 *             processing on that worker      waiting / queued
 *
 *   claim of a held value ──► waiting (parked) ──inventory──▶ memory on that worker (scatter)
 *                                       └──grace period over──▶ erred (data-lost)
 * ```
 *
 * A parked task waits on nothing the scheduler knows of: its `waitingOn` is infinite, so a
 * dependency finishing never makes it ready; `unpark` counts its inputs again.
 */

/** Marks a just-created waiting task as parked: it waits for an inventory, not for inputs. */
export function park(t: TaskRecord): void {
  t.waitingOn = Number.POSITIVE_INFINITY
}

export function isParked(t: TaskRecord): boolean {
  return t.state === TaskState.WAITING && t.waitingOn === Number.POSITIVE_INFINITY
}

/** No inventory named the parked task in time: it waits for its inputs like any other. */
export function unpark(c: SchedulerState, t: TaskRecord): void {
  if (isParked(t)) enterWaiting(c, t, null)
}

/**
 * Worker `w` still runs the task (or keeps its report): it is processing there, assigned again
 * (the worker answers that `assign` from what it kept) and never stolen.
 */
export function adoptRun(c: SchedulerState, t: TaskRecord, w: WorkerRecord): void {
  c.transition(t, 'place')
  attach(c, t, w)
  const a = t.run
  if (a !== null) {
    a.noSteal = true
    a.startedAt = c.now
  }
}

/**
 * Worker `w` holds the value of `t`, a claimed held value: in memory there, as scattered data is
 * (its lineage is gone with the old coordinator: if `w` is lost, so is the value). Nothing is
 * stored (the worker has it); a client regathering it hears through `memory`.
 */
export function adoptData(c: SchedulerState, t: TaskRecord, w: WorkerRecord, nbytes: number): void {
  t.scattered = true
  c.transition(t, 'scatter')
  holdOn(c, t, w, nbytes)
}

/**
 * Scattered data that waited, parked, for a worker (sent again by a resumed client while none
 * was connected): stored on `w` now, in memory there, its dependents counting it in.
 */
export function storeParked(
  c: SchedulerState,
  t: TaskRecord,
  w: WorkerRecord,
  nbytes: number,
): void {
  c.emit({ type: DecisionType.STORE, key: t.key, workerId: w.id })
  adoptData(c, t, w, nbytes)
}

/** No inventory named a claimed held value in time: it is lost (`data-lost`). */
export function loseClaim(c: SchedulerState, t: TaskRecord): void {
  t.scattered = true
  failTask(
    c,
    t,
    'data-lost',
    `the value of ${t.key} was held on a worker that did not come back after the coordinator restarted`,
  )
}
