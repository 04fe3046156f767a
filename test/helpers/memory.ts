// Memory helpers for the memory-management tests: the RSS of a process tree, sampled from /proc
// by the test itself (not by the daemon under test), and a cluster with one limited worker.
import { readFileSync } from 'node:fs'

import { descendants } from './processes.js'

/** Resident memory of `pid` and all its descendants, in bytes, from /proc/<pid>/statm. */
export function treeRssBytes(pid: number): number {
  let pages = 0
  for (const p of [pid, ...descendants(pid)]) {
    try {
      pages += Number(readFileSync(`/proc/${p}/statm`, 'latin1').split(' ')[1])
    } catch {
      // Gone between listing and reading.
    }
  }
  return pages * 4096
}

/** Samples `treeRssBytes(pid)` every `intervalMs` until stopped; keeps every sample. */
export class RssSampler {
  readonly samples: number[] = []
  readonly #timer: NodeJS.Timeout

  constructor(pid: number, intervalMs = 50) {
    this.#timer = setInterval(() => this.samples.push(treeRssBytes(pid)), intervalMs)
  }

  get peak(): number {
    return Math.max(0, ...this.samples)
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
