import type { Core } from './core.js'
import { WorkerState } from './states.js'
import type { Assignment } from './task.js'
import { requestSteal, transferMs } from './slots.js'
import type { WorkerRecord } from './worker.js'

/**
 * Work stealing, planned on each tick after the queue has fed every worker it can.
 *
 * Thieves: running workers with a free process or below the average occupancy per process.
 * Victims: workers above the average with tasks waiting on them beyond their running window.
 * For each victim, its waiting tasks are tried newest first (they would start last). A task moves
 * to the thief where it would finish earliest, only if that is sooner than on the victim by more
 * than `stealLatencyMs`:
 *
 *     thief.startDelay + transfer(inputs to thief) + estimate + stealLatencyMs
 *       < victim's remaining work up to and including the task / victim.procs
 *
 * so a task whose inputs cost more to move than the wait it saves stays. Never stolen: a task
 * in the victim's running window (its first `procs` tasks), reported started, refused before,
 * or already being stolen. Occupancies move tentatively at once, so one tick does not over-steal;
 * the victim confirms (stealReply) before the thief gets the task, so nothing runs twice.
 */
export function planSteals(c: Core): void {
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
    if (w.state === WorkerState.RUNNING && (w.load < w.procs || perProc < avg)) thieves.push(w)
    if (perProc > avg && w.assigned.size > w.procs) victims.push(w)
  }
  if (thieves.length === 0 || victims.length === 0) return
  victims.sort((a, b) => b.occupancyMs / b.procs - a.occupancyMs / a.procs)
  for (const victim of victims) stealFrom(c, victim, thieves)
}

function stealFrom(c: Core, victim: WorkerRecord, thieves: readonly WorkerRecord[]): void {
  const list = [...victim.assigned]
  let later = 0 // cost of newer tasks that stay on the victim
  for (let i = list.length - 1; i >= victim.procs; i--) {
    const a = list[i] as Assignment
    const t = a.task
    if (a.startReported || a.noSteal || a.steal !== null || a.startedAt >= 0) {
      later += a.costMs
      continue
    }
    const victimFinish = (victim.occupancyMs - later) / victim.procs
    let best: WorkerRecord | null = null
    let bestFinish = Infinity
    let bestCost = 0
    for (const w of thieves) {
      if (w === victim || w.state !== WorkerState.RUNNING) continue
      if (w.load >= c.capFor(w, t) || !w.resourcesFree(t.group.need) || !c.canRun(t, w)) continue
      if (w.zombies.has(t.key)) continue
      const cost = t.fn.estimateMs + transferMs(c, t, w)
      const finish = w.startDelayMs() + cost
      if (finish < bestFinish) {
        best = w
        bestFinish = finish
        bestCost = cost
      }
    }
    if (best !== null && bestFinish + c.o.stealLatencyMs < victimFinish) {
      requestSteal(c, a, best, bestCost)
    } else {
      later += a.costMs
    }
  }
}
