import type { SchedulerState } from './core.js'
import { WorkerRecordState } from './states.js'
import type { Assignment } from './task.js'
import { capOf, remainingMs, requestSteal, transferMs } from './slots.js'
import type { WorkerRecord } from './worker.js'

/**
 * Work stealing: a task assigned to a worker but not started there moves to a worker where it
 * would finish sooner. Two triggers:
 *
 * - `tick`: every tick, after the queue has fed every worker it can. Thieves: running workers
 *   with a free process or below the average occupancy per process. Victims: workers above the
 *   average with tasks waiting beyond their running window.
 * - `idle`: at once, whenever a running worker has a free process and nothing waiting on it,
 *   and the queue had nothing it could run (placement calls this after every dispatch). That is
 *   the tail of a computation, where tasks prefetched behind long-running ones would otherwise
 *   wait while processes elsewhere idle until the next tick. Thieves: those idle workers, each
 *   considered once per change of its load. Victims: every worker with tasks waiting on it.
 *
 * For each victim (the most loaded first), its waiting tasks are tried in the order it would run
 * them, so a thief takes the next ones in line and tasks keep their submission order (`map`
 * results come back in order; Dask steals the newest, which runs a map's last items first). A
 * task moves to the thief where it would finish earliest, only if that beats its finish on the
 * victim by more than `stealLatencyMs` (the steal's round trips, and no churn):
 *
 *     thief.startDelay + transfer(inputs to thief) + stealLatencyMs
 *       < start on the victim + transfer(inputs to victim)
 *
 * The start on the victim replays its FIFO on its processes: each running task holds a process
 * for its remaining time (`remainingMs`: a task past half its estimate is taken as halfway
 * done), each waiting task takes the process that frees first for its estimate. So a task
 * queued behind two running ones on two processes waits for the first to end, not for the
 * average of the worker's backlog. A task whose inputs cost more to move than the wait it saves
 * stays. Never stolen: a task in the victim's running window (its first `procs` tasks), reported
 * started, refused before, or already being stolen. Occupancies move tentatively at once, so one
 * pass does not over-steal; the victim confirms (stealReply) before the thief gets the task, so
 * nothing runs twice.
 */
export function planSteals(c: SchedulerState): void {
  if (c.workers.size < 2) return
  let occ = 0
  let procs = 0
  for (const w of c.workers.values()) {
    occ += w.occupancyMs
    procs += w.procs
  }
  const avg = occ / procs
  const thieves: WorkerRecord[] = []
  const victims: WorkerRecord[] = []
  for (const w of c.workers.values()) {
    const perProc = w.occupancyMs / w.procs
    if (w.state === WorkerRecordState.RUNNING && (w.load < w.procs || perProc < avg))
      thieves.push(w)
    if (perProc > avg && w.assigned.size - w.seceded > w.procs) victims.push(w)
  }
  stealFrom(c, victims, thieves)
}

/** The idle trigger: steals for running workers with a free process not considered since their load last changed. */
export function stealForIdle(c: SchedulerState): void {
  if (c.hungry.size === 0 || c.workers.size < 2) return
  let thieves: WorkerRecord[] | null = null
  for (const w of c.hungry) {
    if (w.idleScanned || w.load >= w.procs) continue
    w.idleScanned = true
    ;(thieves ??= []).push(w)
  }
  if (thieves === null) return
  const victims: WorkerRecord[] = []
  for (const w of c.workers.values()) if (w.assigned.size - w.seceded > w.procs) victims.push(w)
  stealFrom(c, victims, thieves)
}

function stealFrom(
  c: SchedulerState,
  victims: WorkerRecord[],
  thieves: readonly WorkerRecord[],
): void {
  if (thieves.length === 0 || victims.length === 0) return
  victims.sort((a, b) => b.occupancyMs / b.procs - a.occupancyMs / a.procs)
  const order = new ThiefOrder(thieves)
  for (const victim of victims) stealFromVictim(c, victim, order)
}

/** A thief, when a task given to it now would start there, and its place among the thieves. */
interface RankedThief {
  readonly w: WorkerRecord
  readonly delayMs: number
  readonly rank: number
}

/**
 * The thieves by `startDelayMs`, earliest first (ties in the callers' order), re-sorted only
 * after a steal moved a delay. A task's start on a thief is its delay plus input transfer, so
 * the delay is a lower bound: the scan of a task's thieves stops at the first one that could
 * no longer win, instead of trying every thief for every waiting task of every victim (with
 * hundreds of busy workers, that was most of each tick).
 */
class ThiefOrder {
  readonly #thieves: readonly WorkerRecord[]
  #sorted: RankedThief[] | null = null

  constructor(thieves: readonly WorkerRecord[]) {
    this.#thieves = thieves
  }

  get sorted(): readonly RankedThief[] {
    this.#sorted ??= this.#thieves
      .map((w, rank) => ({ w, delayMs: w.startDelayMs(), rank }))
      .sort((a, b) => a.delayMs - b.delayMs || a.rank - b.rank)
    return this.#sorted
  }

  /** A steal changed occupancies: sort again when next asked. */
  invalidate(): void {
    this.#sorted = null
  }
}

function stealFromVictim(c: SchedulerState, victim: WorkerRecord, thieves: ThiefOrder): void {
  // Seceded tasks wait for their children and hold no process: the FIFO is the rest.
  const list =
    victim.seceded === 0 ? [...victim.assigned] : [...victim.assigned].filter((a) => !a.seceded)
  let starts = startTimes(c, victim, list)
  const latency = c.o.stealLatencyMs
  for (let i = victim.procs; i < list.length; i++) {
    const a = list[i] as Assignment
    const t = a.task
    if (a.startReported || a.noSteal || a.steal !== null || a.startedAt >= 0) continue
    const victimStart = (starts[i] as number) + a.transferMs
    // The thief where it would start earliest (the first such thief, in the callers' order).
    let best: WorkerRecord | null = null
    let bestStart = Infinity
    let bestRank = Infinity
    let bestTransfer = 0
    for (const { w, delayMs, rank } of thieves.sorted) {
      // Every thief from here starts it no earlier than `delayMs`: none can beat the best, nor
      // the victim by `stealLatencyMs`.
      if (delayMs > bestStart || delayMs + latency >= victimStart) break
      if (w === victim || w.state !== WorkerRecordState.RUNNING) continue
      if (w.load >= capOf(c, w, t) || !w.resourcesFree(t.group.need) || !c.canRun(t, w)) continue
      if (w.zombies.has(t.key)) continue
      const transfer = transferMs(c, t, w)
      const start = delayMs + transfer
      if (start < bestStart || (start === bestStart && rank < bestRank)) {
        best = w
        bestStart = start
        bestRank = rank
        bestTransfer = transfer
      }
    }
    if (best !== null && bestStart + latency < victimStart) {
      requestSteal(c, a, best, t.fn.estimateMs + bestTransfer)
      thieves.invalidate()
      // The tasks behind it now start earlier on the victim: fewer are worth moving.
      starts = startTimes(c, victim, list)
    }
  }
}

/**
 * When each of `list` (the victim's assignments, in the order it runs them) starts, from now,
 * by replaying the worker's FIFO on its processes with the current estimates. Running tasks get
 * 0. Tasks being stolen are left out (they are leaving). Milliseconds.
 */
function startTimes(c: SchedulerState, w: WorkerRecord, list: readonly Assignment[]): number[] {
  const free = new Array<number>(w.procs).fill(0)
  const starts = new Array<number>(list.length).fill(0)
  for (let i = 0; i < list.length; i++) {
    const a = list[i] as Assignment
    if (a.steal !== null) continue
    let p = 0
    for (let j = 1; j < free.length; j++) if ((free[j] as number) < (free[p] as number)) p = j
    if (a.startedAt >= 0 || a.startReported) {
      free[p] = (free[p] as number) + remainingMs(c, a)
    } else {
      starts[i] = free[p] as number
      free[p] = (free[p] as number) + a.task.fn.estimateMs + a.transferMs
    }
  }
  return starts
}
