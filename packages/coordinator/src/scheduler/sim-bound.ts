import type { SimTask, SimWorker } from './sim-types.js'

/**
 * A lower bound on the makespan of independent tasks: the longest task on the fastest worker,
 * and the time by which the workers' capacity (procs × speed, from when each joins until it
 * leaves) covers the total work. Ignores latency and dependencies.
 */
export function lowerBoundMs(workers: readonly SimWorker[], tasks: readonly SimTask[]): number {
  let total = 0
  let longest = 0
  for (const t of tasks) {
    total += t.durationMs
    longest = Math.max(longest, t.durationMs)
  }
  const maxSpeed = Math.max(...workers.map((w) => w.speed ?? 1))
  const earliest = Math.min(...workers.map((w) => w.joinAtMs ?? 0))
  const capacity = (time: number): number =>
    workers.reduce((sum, w) => {
      const span = Math.min(time, w.leaveAtMs ?? Infinity) - (w.joinAtMs ?? 0)
      return sum + Math.max(0, span) * w.procs * (w.speed ?? 1)
    }, 0)
  let lo = 0
  let hi = 1
  while (capacity(hi) < total && hi < 1e15) hi *= 2
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2
    if (capacity(mid) >= total) hi = mid
    else lo = mid
  }
  return Math.max(hi, earliest + longest / maxSpeed)
}
