import type { SchedulerState } from './core.js'
import { failTask, settle } from './graph.js'
import type { QueueGroup } from './group.js'
import { TaskState, WorkerRecordState } from './states.js'
import { taskBefore, type TaskRecord } from './task.js'
import { attach, capOf } from './slots.js'
import { stealForIdle } from './stealing.js'
import type { WorkerRecord } from './worker.js'

/**
 * Where ready tasks go.
 *
 * - A task without inputs (a root task), or whose inputs are small, joins the coordinator's
 *   queue. Workers below their cap (`capOf` in slots.ts: `procs`, more while prefetching pays,
 *   deep for tiny tasks) take the best queued task they can run (higher priority first, FIFO
 *   within a priority), the least occupied worker first.
 * - A task with inputs goes to the worker where it would start earliest:
 *   `start delay + bytes to move / bandwidth`, among the workers holding inputs and the hungry
 *   ones (ties: the one holding more input bytes). It is sent there if that worker is below its
 *   cap, or regardless of the cap when the task is data-heavy (moving its inputs would take
 *   longer than computing it): then waiting for the data's worker beats queuing. Otherwise it
 *   joins the queue like a root task.
 * - A worker near its memory limit (`NEAR_MEMORY_LIMIT`) takes queued tasks only when no other
 *   can; a paused one (over its pause fraction) gets nothing. A task with inputs still goes where
 *   its inputs are: moving them to another worker would hold them twice.
 */

/**
 * A worker whose memory (RSS over its limit) is at least this is near its limit: a queued task
 * goes there only when no other worker can take it (Dask's default spill fraction, 0.7). The penalty
 * is added to the start delay compared between workers, in milliseconds: more than any real one.
 */
export const NEAR_MEMORY_LIMIT = 0.7
const NEAR_LIMIT_PENALTY_MS = 1e12

function memoryPenaltyMs(w: WorkerRecord): number {
  return w.memoryFraction >= NEAR_MEMORY_LIMIT ? NEAR_LIMIT_PENALTY_MS : 0
}

/**
 * Processes the worklists, then hands queued tasks to hungry workers; then, if a worker still
 * has a free process, lets it steal (`stealForIdle`).
 */
export function flush(c: SchedulerState): void {
  c.flushSeq++
  for (;;) {
    const t = c.ready.pop()
    if (t !== undefined) {
      if (t.state === TaskState.WAITING && t.waitingOn === 0) place(c, t)
      continue
    }
    const s = c.settle.pop()
    if (s === undefined) break
    settle(c, s)
  }
  dispatch(c)
  if (c.o.workStealing) stealForIdle(c)
}

function place(c: SchedulerState, t: TaskRecord): void {
  if (t.deps !== null) {
    const w = nearData(c, t)
    if (w !== null) {
      c.transition(t, 'place')
      attach(c, t, w)
      return
    }
  }
  c.transition(t, 'ready')
  if (c.o.noWorkerTimeoutMs === 0 && !t.group.hasWorker(c.workers.values(), c.epoch)) {
    failTask(c, t, 'no-worker', noWorkerMessage(t.group))
  }
}

function nearData(c: SchedulerState, t: TaskRecord): WorkerRecord | null {
  let total = 0
  const held = new Map<WorkerRecord, number>()
  for (const d of t.deps as TaskRecord[]) {
    total += d.nbytes
    for (const w of d.whoHas ?? []) held.set(w, (held.get(w) ?? 0) + d.nbytes)
  }
  if (total === 0) return null
  let best: WorkerRecord | null = null
  let bestCost = Infinity
  let bestHeld = -1
  const consider = (w: WorkerRecord): void => {
    if (w.state !== WorkerRecordState.RUNNING || !c.canRun(t, w) || !w.resourcesFree(t.group.need))
      return
    if (w.zombies.has(t.key)) return
    const h = held.get(w) ?? 0
    const cost = w.startDelayMs() + (total - h) / c.bytesPerMs
    if (cost < bestCost || (cost === bestCost && h > bestHeld)) {
      best = w
      bestCost = cost
      bestHeld = h
    }
  }
  for (const w of held.keys()) consider(w)
  for (const w of c.estimates.isTiny(t.fn) ? c.hungryTiny : c.hungry) {
    if (!held.has(w)) consider(w)
  }
  const w = best as WorkerRecord | null
  if (w === null) return null
  const heavy = total / c.bytesPerMs > t.fn.estimateMs
  return heavy || w.load < capOf(c, w, t) ? w : null
}

/**
 * Gives queued tasks to workers below their cap, one at a time to the least occupied, until
 * the queue or the hungry workers run out.
 */
export function dispatch(c: SchedulerState): void {
  if (c.queuedLive === 0 || c.hungryTiny.size === 0) return
  let anyTiny = false
  for (const g of c.active) {
    const h = g.peekLive()
    if (h !== undefined && c.estimates.isTiny(h.fn)) anyTiny = true
  }
  const candidates = [...(anyTiny ? c.hungryTiny : c.hungry)]
  while (candidates.length > 0 && c.queuedLive > 0) {
    let bi = 0
    let bestScore = Infinity
    for (let i = 0; i < candidates.length; i++) {
      const w = candidates[i] as WorkerRecord
      // tie: lighter backlog; a worker near its memory limit last
      const score = w.startDelayMs() + w.occupancyMs / w.procs / 1e6 + memoryPenaltyMs(w)
      if (score < bestScore) {
        bestScore = score
        bi = i
      }
    }
    const w = candidates[bi] as WorkerRecord
    const t = bestTaskFor(c, w)
    if (t === undefined) {
      candidates[bi] = candidates[candidates.length - 1] as WorkerRecord
      candidates.pop()
      continue
    }
    t.group.queue.pop() // t is its group's live head
    t.inQueue = false
    c.transition(t, 'assign')
    attach(c, t, w)
  }
}

/** The best queued task `w` may take now (constraints, free resources, cap). */
function bestTaskFor(c: SchedulerState, w: WorkerRecord): TaskRecord | undefined {
  let best: TaskRecord | undefined
  for (const g of c.active) {
    if (!g.canRun(w, c.workers.values(), c.epoch) || !w.resourcesFree(g.need)) continue
    const t = g.peekLive()
    if (t === undefined) continue
    if (w.load >= capOf(c, w, t) || (w.zombies.size > 0 && w.zombies.has(t.key))) continue
    if (best === undefined || taskBefore(t, best)) best = t
  }
  return best
}

/** Fails the queued tasks of groups that have had no possible worker for `noWorkerTimeoutMs`. */
export function checkNoWorker(c: SchedulerState): void {
  for (const g of c.active) {
    if (g.hasWorker(c.workers.values(), c.epoch)) {
      g.noWorkerSince = -1
      continue
    }
    if (g.noWorkerSince < 0) g.noWorkerSince = c.now
    if (c.now - g.noWorkerSince < c.o.noWorkerTimeoutMs) continue
    const message = noWorkerMessage(g)
    for (let t = g.peekLive(); t !== undefined; t = g.peekLive())
      failTask(c, t, 'no-worker', message)
  }
}

/** Queued tasks that no connected worker could run. */
export function countNoWorker(c: SchedulerState): number {
  let n = 0
  for (const g of c.active) if (!g.hasWorker(c.workers.values(), c.epoch)) n += g.live
  return n
}

function noWorkerMessage(g: QueueGroup): string {
  const parts: string[] = []
  if (g.need !== null) parts.push(`resources {${g.need.map(([n, a]) => `${n}: ${a}`).join(', ')}}`)
  if (g.restrict !== null && !g.allowOther)
    parts.push(`one of the workers [${[...g.restrict].join(', ')}]`)
  return `no connected worker has ${parts.join(' and ') || 'a free slot'}`
}
