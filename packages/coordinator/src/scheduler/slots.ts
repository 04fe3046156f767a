import type { SchedulerState } from './core.js'
import { DecisionType, type DepLocation } from './decisions.js'
import { WorkerRecordState } from './states.js'
import { Assignment, type TaskRecord } from './task.js'
import type { WorkerRecord } from './worker.js'

/**
 * Worker slot bookkeeping: which tasks a worker holds and how many it may hold (`capOf`), their
 * resources and occupancy, the running window, steals in flight and zombies. No task state
 * changes here (except through the callers); every function keeps `occupancyMs`, `used` and the
 * hungry sets consistent.
 */

const NO_DEPS: readonly DepLocation[] = Object.freeze([])

/** Puts `t` on `w` and sends it there. The caller has moved `t` to processing. */
export function attach(c: SchedulerState, t: TaskRecord, w: WorkerRecord): void {
  const transfer = transferMs(c, t, w)
  const a = new Assignment(
    t,
    w,
    transfer,
    t.fn.estimateMs + transfer,
    w.assigned.size - w.seceded < w.procs ? c.now : -1,
  )
  t.run = a
  // Only a task sent alone is a round-trip sample (`Assignment.sentIdleAt`).
  if (w.lastAttachedSeq === c.flushSeq) {
    if (w.lastAttached !== null) w.lastAttached.sentIdleAt = -1
    a.sentIdleAt = -1
  }
  w.lastAttached = a
  w.lastAttachedSeq = c.flushSeq
  w.assigned.add(a)
  w.reserve(t.group.need, 1)
  w.occupancyMs += a.costMs
  c.emit({
    type: DecisionType.ASSIGN,
    key: t.key,
    workerId: w.id,
    attempt: t.attempt,
    deps: t.deps === null ? NO_DEPS : depLocations(t, w),
  })
  refreshHungry(c, w)
}

/** Takes `t` off its worker (aborting a steal in flight). */
export function detach(c: SchedulerState, t: TaskRecord): void {
  const a = t.run
  if (a === null) return
  if (a.steal !== null) abortSteal(c, a)
  const w = a.worker
  w.assigned.delete(a)
  // A finished task's assignment (and through it the task) is not kept alive by its worker.
  if (w.lastAttached === a) w.lastAttached = null
  if (a.seceded) w.seceded--
  w.reserve(t.group.need, -1)
  w.occupancyMs = Math.max(0, w.occupancyMs - a.costMs)
  t.run = null
  advanceWindow(c, w)
  refreshHungry(c, w)
}

/**
 * The task running on `a.worker` waits for its executor's futures (`seceded`) or runs again
 * (`!seceded`): its slot and occupancy are freed or taken back. A seceded task keeps its
 * resources (a GPU stays with the task that holds it), and is never stolen (it started).
 */
export function setSeceded(c: SchedulerState, a: Assignment, seceded: boolean): void {
  if (a.seceded === seceded) return
  const w = a.worker
  a.seceded = seceded
  a.noSteal = true
  if (seceded) {
    w.seceded++
    w.occupancyMs = Math.max(0, w.occupancyMs - a.costMs)
    a.costMs = 0
  } else {
    w.seceded--
    a.costMs = remainingMs(c, a)
    w.occupancyMs += a.costMs
  }
  refreshHungry(c, w)
}

/**
 * Tells the worker to drop `t` and takes it off the worker's books, but keeps its slot and
 * resources as a zombie until the worker answers (taskDropped, or the task's own result):
 * a task that already runs must not be double-booked.
 */
export function zombify(c: SchedulerState, t: TaskRecord): void {
  const w = t.worker
  if (w === null) return
  c.emit({ type: DecisionType.CANCEL_ON_WORKER, key: t.key, workerId: w.id })
  detach(c, t)
  w.zombies.set(t.key, { need: t.group.need })
  w.reserve(t.group.need, 1)
  refreshHungry(c, w)
}

/** The worker answered for a task it was told to drop. False if there was no such zombie. */
export function consumeZombie(c: SchedulerState, w: WorkerRecord, key: string): boolean {
  if (w.zombies.size === 0) return false
  const z = w.zombies.get(key)
  if (z === undefined) return false
  w.zombies.delete(key)
  w.reserve(z.need, -1)
  refreshHungry(c, w)
  return true
}

/** Reserves the task on `thief` and asks its worker to give it up. */
export function requestSteal(
  c: SchedulerState,
  a: Assignment,
  thief: WorkerRecord,
  costMs: number,
): void {
  a.steal = thief
  a.stealCostMs = costMs
  thief.incoming.add(a)
  thief.occupancyMs += costMs
  thief.reserve(a.task.group.need, 1)
  a.worker.occupancyMs = Math.max(0, a.worker.occupancyMs - a.costMs)
  c.emit({
    type: DecisionType.STEAL_REQUEST,
    key: a.task.key,
    victimId: a.worker.id,
    thiefId: thief.id,
  })
  refreshHungry(c, thief)
}

/** Undoes `requestSteal`'s reservation: the task counts on its victim again. */
export function abortSteal(c: SchedulerState, a: Assignment): void {
  const thief = a.steal
  if (thief === null) return
  a.steal = null
  thief.incoming.delete(a)
  thief.occupancyMs = Math.max(0, thief.occupancyMs - a.stealCostMs)
  thief.reserve(a.task.group.need, -1)
  a.stealCostMs = 0
  a.worker.occupancyMs += a.costMs
  refreshHungry(c, thief)
}

/** The first `procs` assigned tasks are (taken as) running: stamp their start. */
export function advanceWindow(c: SchedulerState, w: WorkerRecord): void {
  let i = 0
  for (const a of w.assigned) {
    if (a.seceded) continue // it holds no process
    if (i++ >= w.procs) break
    if (a.startedAt < 0) a.startedAt = c.now
  }
}

/**
 * How many tasks `w` may hold (running plus waiting there) when the next one is `t`:
 *
 * - tiny `t` (its function's estimate is under `tinyTaskMs` or the measured round trip):
 *   `tinyCapOf`, enough queued per process to hide the worker's round trip;
 * - while prefetching pays (`prefetchPays`): `baseCap`, `ceil(procs × saturationFactor) + prefetch`;
 * - otherwise `procs`: the worker gets a task only when it has a free process, so every task
 *   starts on the first process that frees anywhere, in queue order (greedy list scheduling).
 */
export function capOf(c: SchedulerState, w: WorkerRecord, t: TaskRecord): number {
  if (c.estimates.isTiny(t.fn)) return tinyCapOf(c, w, t.fn.estimateMs)
  if (prefetchPays(c, t)) return w.baseCap
  return Math.min(w.procs, w.baseCap)
}

/**
 * The queue that hides the round trip for tasks of `estimateMs`: a process that finishes a task
 * asks for the next, and until it arrives (`w.roundTripMs`) it must have work queued, that is
 * `1 + ceil(roundTripMs / estimateMs)` tasks per process (at least 2, at most `tinyTaskDepth`:
 * `w.tinyCap`). A process busy with a task that is not tiny queues none (a tiny task there would
 * wait behind it while other processes run dry): it counts as one.
 */
export function tinyCapOf(c: SchedulerState, w: WorkerRecord, estimateMs: number): number {
  const maxDepth = w.tinyCap / w.procs
  const depth = Math.min(maxDepth, Math.max(2, 1 + Math.ceil(w.roundTripMs / estimateMs)))
  const long = longRunning(c, w)
  return long + Math.max(0, w.procs - long) * depth
}

/** How many of `w`'s running tasks are not tiny, or are overdue. */
function longRunning(c: SchedulerState, w: WorkerRecord): number {
  let long = 0
  let i = 0
  for (const a of w.assigned) {
    if (a.seceded) continue
    if (i++ >= w.procs) break
    // The first `procs` are running (the window); a tiny one ends about as soon as a new one
    // comes. One whose result is overdue by two round trips is long, whatever its function's
    // estimate (a function with both long and short runs may look tiny).
    const fn = a.task.fn
    const ranMs = a.startedAt >= 0 ? c.now - a.startedAt : 0
    if (!c.estimates.isTiny(fn) || ranMs > fn.estimateMs + 2 * w.roundTripMs) long++
  }
  return long
}

/** Results of a worker that are not round-trip samples: they include its start-up. */
const WARM_UP_RESULTS = 2
/** Weight of a worker's new round trip in the cluster's moving average. */
const ROUND_TRIP_WEIGHT = 0.1
/** Round-trip samples are clamped to this range: a stalled peer must not freeze the queues. Milliseconds. */
const ROUND_TRIP_RANGE_MS = [0.01, 100] as const

/**
 * `a` finished after `durationMs` of running: if it was sent to a free process, the time it
 * took beyond its run is one round trip to its worker. Moves the worker's median (its first
 * sample replaces its default) and the cluster's average of the workers' medians.
 */
export function sampleRoundTrip(c: SchedulerState, a: Assignment, durationMs: number): void {
  if (a.sentIdleAt < 0 || !(durationMs >= 0)) return
  // A worker's first results also paid for starting its processes, and a function's first run
  // for loading it: they say nothing of the round trip.
  if (a.worker.done < WARM_UP_RESULTS || a.task.fn.observed <= 1) return
  const [lo, hi] = ROUND_TRIP_RANGE_MS
  const sample = Math.min(hi, Math.max(lo, c.now - a.sentIdleAt - durationMs))
  const w = a.worker
  w.roundTripMs = w.roundTrip.add(sample)
  const e = c.estimates
  e.roundTripMs += ROUND_TRIP_WEIGHT * (w.roundTripMs - e.roundTripMs)
}

/**
 * Prefetching (giving a worker tasks beyond its processes) hides the round trip to fetch the
 * next task. But it commits the task to one worker's FIFO before anyone knows which process
 * frees first: when durations vary, the task may then wait behind a long one while processes
 * elsewhere run dry (and stealing can only take it back once a whole worker idles). The cost of
 * committing is about the spread of the function's durations (`FnStats.spreadMs`: nothing when
 * all runs take the same time); the cost of not prefetching is one round trip per task, that is
 * `queued × roundTripMs / procs in the cluster` per process until the queue runs dry. Prefetch
 * only while the second exceeds the first.
 */
export function prefetchPays(c: SchedulerState, t: TaskRecord): boolean {
  const rtt = c.o.roundTripMs
  if (rtt === Infinity) return true
  return c.queuedLive * rtt > t.fn.spreadMs * clusterProcs(c)
}

const procsCache = new WeakMap<SchedulerState, { epoch: number; procs: number }>()

/** Processes of all connected workers, recounted when the set of workers changes. */
function clusterProcs(c: SchedulerState): number {
  let e = procsCache.get(c)
  if (e === undefined || e.epoch !== c.epoch) {
    let procs = 0
    for (const w of c.workers.values()) procs += w.procs
    e = { epoch: c.epoch, procs }
    procsCache.set(c, e)
  }
  return e.procs
}

export function refreshHungry(c: SchedulerState, w: WorkerRecord): void {
  w.idleScanned = false
  const running = w.state === WorkerRecordState.RUNNING
  const load = w.load
  if (running && load < w.baseCap) c.hungry.add(w)
  else c.hungry.delete(w)
  if (running && load < w.tinyCap) c.hungryTiny.add(w)
  else c.hungryTiny.delete(w)
}

/**
 * Recomputes `w.occupancyMs` from its tasks with the current estimates: a started task counts
 * its remaining time `max(estimate, 2 × elapsed) − elapsed` (past half its estimate it is assumed
 * halfway done); a waiting one its estimate plus input transfer.
 */
export function refreshOccupancy(c: SchedulerState, w: WorkerRecord): void {
  let occ = 0
  for (const a of w.assigned) {
    if (a.seceded) {
      a.costMs = 0
      continue
    }
    a.costMs = a.startedAt >= 0 ? remainingMs(c, a) : a.task.fn.estimateMs + a.transferMs
    if (a.steal === null) occ += a.costMs
  }
  for (const a of w.incoming) occ += a.stealCostMs
  w.occupancyMs = occ
}

/** Remaining time of a started task: `max(estimate, 2 × elapsed) − elapsed`. Milliseconds. */
export function remainingMs(c: SchedulerState, a: Assignment): number {
  const elapsed = a.startedAt >= 0 ? Math.max(0, c.now - a.startedAt) : 0
  return Math.max(a.task.fn.estimateMs - elapsed, elapsed)
}

/** Time to move the inputs `w` lacks. Milliseconds. */
export function transferMs(c: SchedulerState, t: TaskRecord, w: WorkerRecord): number {
  if (t.deps === null) return 0
  let bytes = 0
  for (const d of t.deps) {
    if (d.whoHas === null || !d.whoHas.includes(w)) bytes += d.nbytes
  }
  return bytes / c.bytesPerMs
}

function depLocations(t: TaskRecord, w: WorkerRecord): DepLocation[] {
  const out: DepLocation[] = []
  for (const d of t.deps as TaskRecord[]) {
    const holders = d.whoHas
    if (holders === null || holders.length === 0) continue // cannot happen: deps are in memory
    const src = holders.includes(w) ? w : (holders[0] as WorkerRecord)
    out.push({ key: d.key, workerId: src.id, nbytes: d.nbytes })
  }
  return out
}
