import { readFileSync } from 'node:fs'

/** Bytes per page for /proc/<pid>/statm (4 KiB on every Linux Node runs on here). */
const PAGE_BYTES = 4096

let procWorks: boolean | undefined

/**
 * Resident memory of one process, in bytes: `/proc/<pid>/statm` where it exists (one small
 * read, no allocation of note), else, for this process only, `process.memoryUsage.rss()`.
 * A process that is gone counts 0.
 */
export function processRssBytes(pid: number): number {
  if (procWorks !== false) {
    try {
      const statm = readFileSync(`/proc/${pid}/statm`, 'latin1')
      procWorks = true
      const i = statm.indexOf(' ')
      return Number(statm.slice(i + 1, statm.indexOf(' ', i + 1))) * PAGE_BYTES
    } catch {
      if (procWorks === undefined) procWorks = false
      else return 0 // /proc works: the process ended between listing and reading
    }
  }
  return pid === process.pid ? process.memoryUsage.rss() : 0
}
