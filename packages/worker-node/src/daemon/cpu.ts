import { readFileSync } from 'node:fs'

/** Linux clock ticks per second for /proc/<pid>/stat times (USER_HZ is 100 on every Linux ABI Node runs on). */
const TICKS_PER_SECOND = 100

/**
 * CPU time used so far by the given processes, in seconds, from /proc (Linux). Processes that
 * are gone, or a system without /proc, count as 0: the figure is for display only.
 */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
    } catch {
      // The process ended between listing and reading.
    }
  }
  return ticks / TICKS_PER_SECOND
}

/** CPU used between calls by a changing set of processes, in cores (2 = two busy cores). */
export class CpuMeter {
  #last = new Map<number, number>()
  #at = performance.now()

  sample(pids: readonly number[]): number {
    const now = performance.now()
    const next = new Map<number, number>()
    let used = 0
    for (const pid of pids) {
      const s = cpuSeconds([pid])
      next.set(pid, s)
      used += s - (this.#last.get(pid) ?? 0)
    }
    const cores = used / Math.max(0.001, (now - this.#at) / 1000)
    this.#last = next
    this.#at = now
    return Math.max(0, cores)
  }
}

/** Resident memory of the given processes together, in bytes, from /proc (Linux; 0 elsewhere). */
export function rssBytes(pids: readonly number[]): number {
  let pages = 0
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1])
    } catch {
      // Gone already.
    }
  }
  return pages * 4096
}
