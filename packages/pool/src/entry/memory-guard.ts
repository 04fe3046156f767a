/**
 * A child process's own memory guard, started by `process-entry` when the pool gave it a share
 * file (`TaskPoolOptions.rssShareFile`). It runs on a thread of its own, so that a task busy
 * filling Buffers on the main thread is still watched: it reads the process's resident memory,
 * and past the share it writes what it saw to the report file and kills the process (SIGKILL).
 * The parent reads the report when the process has exited and fails the task with a
 * `WorkerDiedError` that says memory, with both figures.
 *
 * It looks every `RSS_GUARD_INTERVAL_MS` while the process is near its share, and less often
 * while it is far under it (`guardWaitMs`): each wake of the thread costs the process tens of
 * microseconds of CPU, and 200 of them a second were as much as the runner's own work for
 * 20,000 no-op tasks.
 *
 * The share is re-read from the file every `SHARE_REREAD_MS` (the parent moves it as the other
 * processes' memory changes); an unreadable or empty file leaves the last share in force.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'

/** How often the guard looks at the process's RSS when it is near its share. Milliseconds. */
export const RSS_GUARD_INTERVAL_MS = 5
/** How often it re-reads its share, and so the longest it waits between looks. Milliseconds. */
export const SHARE_REREAD_MS = 100
/**
 * The fastest the guard assumes a process's RSS can grow: 32 GiB/s, several times what one
 * thread faulting in fresh pages reaches (a few GiB/s). Bytes per millisecond.
 */
export const RSS_GROWTH_BYTES_PER_MS = 32 * 2 ** 20

/** What `guardWaitMs` weighs, besides the figures of the moment. */
export interface GuardPace {
  /** The shortest wait, near the share: `RSS_GUARD_INTERVAL_MS`. */
  readonly intervalMs: number
  /** `RSS_GROWTH_BYTES_PER_MS`. */
  readonly growthBytesPerMs: number
}

/**
 * How long the guard may wait before its next look, in ms: until the process could have grown
 * from `rssBytes` to `shareBytes` at `pace.growthBytesPerMs`, but at least `pace.intervalMs`
 * (near the share it looks as often as it always did) and no later than the share's next
 * re-read, `untilRereadMs` from now. Pure; its source runs in the guard thread, so it uses
 * nothing outside itself.
 */
export function guardWaitMs(
  rssBytes: number,
  shareBytes: number,
  untilRereadMs: number,
  pace: GuardPace,
): number {
  const reachMs = (shareBytes - rssBytes) / pace.growthBytesPerMs
  return Math.max(pace.intervalMs, Math.min(reachMs, untilRereadMs))
}

/** The report file of process `pid` for the share file `shareFile`. */
export function guardReportPath(shareFile: string, pid: number): string {
  return `${shareFile}.${pid}.killed`
}

/** What the report file holds (JSON). */
export interface GuardReport {
  readonly rssBytes: number
  readonly shareBytes: number
}

/**
 * The share file's text: `shareBytes` for every process, then `<pid> <bytes>` for those with a
 * share of their own.
 */
export function formatShares(
  shareBytes: number,
  own: ReadonlyMap<number, number> = new Map(),
): string {
  let text = String(Math.floor(shareBytes))
  for (const [pid, bytes] of own) text += `\n${pid} ${Math.floor(bytes)}`
  return text
}

/** The share of process `pid` in the share file's `text` (see `formatShares`); NaN if none. */
export function shareOf(text: string, pid: number): number {
  // Its source runs in the guard thread too: it uses nothing outside itself.
  const lines = text.split('\n')
  let share = Number((lines[0] ?? '').trim())
  const own = `${pid} `
  for (const line of lines.slice(1))
    if (line.startsWith(own)) share = Number(line.slice(own.length).trim())
  return share
}

// The thread's program, evaluated as CommonJS: small, and no file to find next to this one.
const GUARD_SOURCE = `
const { workerData } = require('node:worker_threads')
const { readFileSync, writeFileSync } = require('node:fs')
const { shareFile, reportFile, rereadMs, pace } = workerData
const guardWaitMs = ${guardWaitMs.toString()}
const nap = new Int32Array(new SharedArrayBuffer(4))
let share = Infinity
let readAt = -Infinity
const shareOf = ${shareOf.toString()}
function readShare() {
  try {
    const n = shareOf(readFileSync(shareFile, 'latin1'), process.pid)
    if (n > 0) share = n
  } catch {}
}
for (;;) {
  const now = performance.now()
  if (now - readAt >= rereadMs) { readShare(); readAt = now }
  const rss = process.memoryUsage.rss()
  if (rss > share) {
    try { writeFileSync(reportFile, JSON.stringify({ rssBytes: rss, shareBytes: share })) } catch {}
    process.kill(process.pid, 'SIGKILL')
  }
  Atomics.wait(nap, 0, 0, guardWaitMs(rss, share, readAt + rereadMs - now, pace))
}
`

/** Starts the guard thread; it never keeps the process alive. */
export function startMemoryGuard(shareFile: string): void {
  const worker = new Worker(GUARD_SOURCE, {
    eval: true,
    workerData: {
      shareFile,
      reportFile: guardReportPath(shareFile, process.pid),
      rereadMs: SHARE_REREAD_MS,
      pace: { intervalMs: RSS_GUARD_INTERVAL_MS, growthBytesPerMs: RSS_GROWTH_BYTES_PER_MS },
    },
    // The guard needs little; keep its own heap small.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  })
  worker.unref()
  worker.on('error', () => {
    // A guard that cannot run leaves the parent's 100 ms monitor in charge.
  })
}

/**
 * Past this many bytes of ArrayBuffers (Buffers, typed arrays) after a batch of results is
 * sent, a guarded process collects its garbage at once: a task's big buffers are garbage as
 * soon as its result is written, but V8 may keep them for a long time, and they count against
 * the process's share and the worker's pause fraction.
 */
export const GC_AFTER_RESULTS_OVER_BYTES = 16 * 2 ** 20

/**
 * The buffers are looked at no more often than this: `process.memoryUsage()` walks the heap's
 * spaces and reads /proc (tens of microseconds), too dear for every batch of no-op results.
 * Milliseconds.
 */
export const GC_CHECK_INTERVAL_MS = 50

let gc: (() => void) | undefined
let gcQueued = false
let checkedAt = -Infinity

/** After results went out: collect soon if buffers are piling up (guarded processes only). */
export function collectAfterResults(): void {
  if (gcQueued) return
  const now = performance.now()
  if (now - checkedAt < GC_CHECK_INTERVAL_MS) return
  checkedAt = now
  if (process.memoryUsage().arrayBuffers < GC_AFTER_RESULTS_OVER_BYTES) return
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    } catch {
      gc = () => {}
    }
  }
  gcQueued = true
  setImmediate(() => {
    gcQueued = false
    gc?.()
  })
}
