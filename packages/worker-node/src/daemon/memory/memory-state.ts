import { nextState, type Transitions } from '@clusterpool/protocol'

import type { ResolvedMemoryOptions } from './options.js'

/**
 * What a worker daemon does about its memory: a pure machine fed one sample per monitor tick
 * (`observe`), answering with what to spill, whether to pause, each task process's share and
 * whether to restart the task processes. No clocks, files or processes: `MemoryManager` samples
 * and carries the answer out.
 *
 * ```text
 *            managed > target, or RSS > spill
 *    ok ───────────spill──────────────▶ spilling ──settle (managed ≤ target, RSS ≤ spill)──▶ ok
 *     │                                    │
 *     └──pause (RSS > pause, or disk full)─┴──▶ paused ──resume (RSS < target, or RSS < spill
 *                                                 │  ▲      with managed ≤ target)──▶ ok
 *                      paused ≥ pausedRestartTimeoutMs, nothing left to spill
 *                                                 ▼  │ restarted
 *                                               restarting
 * ```
 *
 * - Managed memory (held values, by size) over the target spills the least recently used
 *   values until it is under; RSS over the spill fraction spills until RSS is under the target.
 * - Paused, the daemon takes no new tasks and the coordinator steals its queue. It resumes under
 *   the target; or under the spill fraction once its managed memory is within the target (or
 *   all spilled): what is left is unmanaged memory (the processes' own, and freed memory the
 *   allocator keeps), which waiting does not shrink, so staying paused for it would be Dask's
 *   "paused forever". A full disk keeps it paused while managed memory is over the target.
 * - A worker paused for `pausedRestartTimeoutMs` with nothing left to spill (what holds the
 *   memory is not its data: Dask's "paused forever", dask/distributed#3761 and #5999) restarts
 *   its task processes, then waits paused again.
 * - The task processes together get `terminate × limit − the daemon's RSS`. Each may use what
 *   the others leave of it, and at least an equal share (at least `MIN_CHILD_SHARE_BYTES`): a
 *   process past its allowance is killed by its guard (`@clusterpool/pool`'s `rssShareFile`).
 *   So a busy process next to idle ones is not killed while the worker as a whole is within its
 *   budget. The daemon's own memory is its data, which it spills: it is never killed for it.
 */
export const MemoryState = {
  OK: 'ok',
  SPILLING: 'spilling',
  PAUSED: 'paused',
  RESTARTING: 'restarting',
} as const
export type MemoryState = (typeof MemoryState)[keyof typeof MemoryState]

const { OK, SPILLING, PAUSED, RESTARTING } = MemoryState

/** Every legal move: name → allowed sources and the target. */
export const MEMORY_TRANSITIONS = {
  /** Managed memory over the target, or RSS over the spill fraction. */
  spill: { from: [OK], to: SPILLING },
  /** Back under both. */
  settle: { from: [SPILLING], to: OK },
  /** RSS over the pause fraction, or the disk is full with managed memory over the target. */
  pause: { from: [OK, SPILLING], to: PAUSED },
  /** RSS under the target again. */
  resume: { from: [PAUSED], to: OK },
  /** Paused too long with nothing left to spill: restart the task processes. */
  restart: { from: [PAUSED], to: RESTARTING },
  /** The task processes were killed; wait paused again, the timer starting anew. */
  restarted: { from: [RESTARTING], to: PAUSED },
} as const satisfies Transitions<MemoryState>

export type MemoryTransition = keyof typeof MEMORY_TRANSITIONS

/** The smallest share a task process gets, whatever the daemon uses. Bytes (a Node process needs ~50 MB). */
export const MIN_CHILD_SHARE_BYTES = 64 * 2 ** 20

/** One tick's measurements. Bytes, except `nowMs`. */
export interface MemorySample {
  /** A monotonic clock, milliseconds. */
  readonly nowMs: number
  /** The daemon's own resident memory. */
  readonly daemonRssBytes: number
  /** Resident memory of each live task process. */
  readonly childRssBytes: readonly number[]
  /** Held values in memory (managed memory). */
  readonly managedBytes: number
  /** Of those, the bytes that may be spilled now (not being written already). */
  readonly spillableBytes: number
  /** Bytes being written to disk now. */
  readonly spillingBytes: number
  /** The last spill failed for lack of room (a full disk, or `maxSpillBytes`). */
  readonly diskFull: boolean
}

/** What to do after a sample. */
export interface MemoryDecision {
  readonly state: MemoryState
  /** The move this sample made, if any. */
  readonly moved: MemoryTransition | undefined
  /** Start spilling this many more bytes (least recently used first). */
  readonly spillBytes: number
  /** Each task process's equal share now (a new process's allowance). */
  readonly childShareBytes: number
  /**
   * What each task process of the sample may use now (in `childRssBytes`' order): what the
   * others leave of the processes' budget, and at least `childShareBytes`.
   */
  readonly childAllowanceBytes: readonly number[]
  /** Kill the task processes now (then report `restarted`). */
  readonly restartChildren: boolean
  /** RSS of the daemon and its processes together. */
  readonly rssBytes: number
}

export class MemoryMachine {
  readonly #o: ResolvedMemoryOptions
  readonly #procs: number
  #state: MemoryState = OK
  #pausedSince = 0

  constructor(options: ResolvedMemoryOptions, procs: number) {
    this.#o = options
    this.#procs = procs
  }

  get state(): MemoryState {
    return this.#state
  }

  /** Paused or restarting: the daemon takes no new tasks. */
  get paused(): boolean {
    return this.#state === PAUSED || this.#state === RESTARTING
  }

  observe(s: MemorySample): MemoryDecision {
    const o = this.#o
    const limit = o.memoryLimitBytes
    const rss = s.daemonRssBytes + s.childRssBytes.reduce((a, b) => a + b, 0)
    const target = o.memoryTargetFraction * limit
    const overTarget = s.managedBytes > target
    const overSpill = rss > o.memorySpillFraction * limit
    let want = 0
    if (overTarget) want = s.managedBytes - target
    if (overSpill) want = Math.max(want, rss - target)
    want = Math.max(0, want - s.spillingBytes)
    const spillBytes = s.diskFull ? 0 : Math.min(want, s.spillableBytes)
    const overPause =
      rss > o.memoryPauseFraction * limit || (s.diskFull && (overTarget || overSpill))
    let moved: MemoryTransition | undefined
    let restartChildren = false
    switch (this.#state) {
      case OK:
        if (overPause) moved = 'pause'
        else if (overTarget || overSpill) moved = 'spill'
        break
      case SPILLING:
        if (overPause) moved = 'pause'
        else if (!overTarget && !overSpill) moved = 'settle'
        break
      case PAUSED: {
        const stuckDisk = s.diskFull && overTarget
        const nothingToSpill = (s.spillableBytes === 0 || s.diskFull) && s.spillingBytes === 0
        const settled = !overSpill && (nothingToSpill || !overTarget)
        if (!stuckDisk && (rss < target || settled)) moved = 'resume'
        else if (s.nowMs - this.#pausedSince >= o.pausedRestartTimeoutMs && nothingToSpill) {
          moved = 'restart'
          restartChildren = true
        }
        break
      }
      case RESTARTING:
        break
    }
    if (moved !== undefined) this.#move(moved, s.nowMs)
    const free = o.memoryTerminateFraction * limit - s.daemonRssBytes
    const share = Math.max(MIN_CHILD_SHARE_BYTES, Math.floor(free / this.#procs))
    const children = s.childRssBytes.reduce((a, b) => a + b, 0)
    return {
      state: this.#state,
      moved,
      spillBytes,
      childShareBytes: share,
      childAllowanceBytes: s.childRssBytes.map((own) =>
        Math.max(share, Math.floor(free - (children - own))),
      ),
      restartChildren,
      rssBytes: rss,
    }
  }

  /** The task processes were killed (after a `restartChildren`); wait paused again. */
  restarted(nowMs: number): void {
    this.#move('restarted', nowMs)
  }

  #move(name: MemoryTransition, nowMs: number): void {
    this.#state = nextState(MEMORY_TRANSITIONS, name, this.#state, 'worker memory:')
    if (this.#state === PAUSED) this.#pausedSince = nowMs
  }
}
