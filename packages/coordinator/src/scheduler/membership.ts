import { InvalidOptionError, InvalidStateError } from '@clusterpool/protocol'

import type { SchedulerState } from './core.js'
import { enterWaiting, failTask, loseData } from './graph.js'
import type { WorkerSpec } from './specs.js'
import { abortSteal, detach, refreshHungry } from './slots.js'
import { TaskState, WorkerRecordState } from './states.js'
import type { TaskRecord } from './task.js'
import { WorkerRecord } from './worker.js'

/** Workers joining and leaving. */

export function joinWorker(c: SchedulerState, spec: WorkerSpec): WorkerRecord {
  if (typeof spec.id !== 'string' || spec.id === '') {
    throw new InvalidOptionError('worker id must be a non-empty string')
  }
  if (c.workers.has(spec.id))
    throw new InvalidStateError(`scheduler: worker ${spec.id} is already connected`)
  if (!Number.isInteger(spec.procs) || spec.procs < 1) {
    throw new InvalidOptionError(
      `worker ${spec.id}: procs must be a positive integer, got ${String(spec.procs)}`,
    )
  }
  const resources = new Map<string, number>()
  for (const [name, amount] of Object.entries(spec.resources ?? {})) {
    if (typeof amount !== 'number' || !(amount >= 0) || !Number.isFinite(amount)) {
      throw new InvalidOptionError(
        `worker ${spec.id}: resources.${name} must be a number >= 0, got ${String(amount)}`,
      )
    }
    resources.set(name, amount)
  }
  const o = c.o
  const baseCap = Math.ceil(spec.procs * o.saturationFactor) + o.prefetch
  const tinyCap = o.tinyTaskMs > 0 ? Math.max(baseCap, spec.procs * o.tinyTaskDepth) : baseCap
  const name = spec.name ?? spec.id
  const w = new WorkerRecord(
    spec.id,
    name,
    spec.host ?? '',
    spec.procs,
    resources,
    baseCap,
    tinyCap,
    c.estimates.roundTripMs,
  )
  c.workers.set(w.id, w)
  c.epoch++
  refreshHungry(c, w)
  return w
}

/**
 * The worker is gone (lost or left). Steals towards it are called off; results only it held are
 * lost (recomputed if still needed); its tasks go back to the queue. A task that may have been
 * running there (reported started, or in its running window) counts as suspicious: after
 * `allowedFailures` such deaths it fails with reason `killed-worker`. Tasks that were only
 * waiting on the worker do not count (Dask counts every processing task; a deep queue of tiny
 * tasks would otherwise be condemned by one crash).
 */
export function leaveWorker(c: SchedulerState, w: WorkerRecord): void {
  w.state = WorkerRecordState.GONE
  c.workers.delete(w.id)
  c.hungry.delete(w)
  c.hungryTiny.delete(w)
  c.epoch++
  for (const a of [...w.incoming]) abortSteal(c, a)
  w.zombies.clear()
  const lost: TaskRecord[] = []
  for (const t of w.hasData) {
    const holders = (t.whoHas ?? []).filter((x) => x !== w)
    t.whoHas = holders.length > 0 ? holders : null
    if (holders.length === 0 && t.state === TaskState.MEMORY) lost.push(t)
  }
  w.hasData.clear()
  for (const t of lost) if (t.state === TaskState.MEMORY) loseData(c, t, w)
  const held = [...w.assigned].map((a) => ({
    t: a.task,
    mayHaveRun: a.startReported || a.startedAt >= 0,
  }))
  for (const { t, mayHaveRun } of held) {
    detach(c, t)
    if (mayHaveRun) {
      t.suspicious++
      ;(t.killedOn ??= []).push(w.name)
      if (t.suspicious >= c.o.allowedFailures) {
        failTask(c, t, 'killed-worker', killedMessage(t), { workers: [...t.killedOn] })
        continue
      }
    }
    enterWaiting(c, t, 'requeue')
  }
}

/** Worker `w` lost its copy of `t`'s value; if it was the last one, the value is lost. */
export function loseCopy(c: SchedulerState, t: TaskRecord, w: WorkerRecord): void {
  w.hasData.delete(t)
  const holders = (t.whoHas ?? []).filter((x) => x !== w)
  t.whoHas = holders.length > 0 ? holders : null
  if (holders.length === 0 && t.state === TaskState.MEMORY) loseData(c, t, w)
}

function killedMessage(t: TaskRecord): string {
  const ws = t.killedOn ?? []
  return `task ${t.key} was running on ${ws.length} workers that died (${ws.join(', ')}); it is probably what kills them`
}
