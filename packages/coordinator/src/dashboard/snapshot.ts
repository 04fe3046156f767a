/**
 * What the dashboard sends to browsers over `GET /api/events` (server-sent events). Two events:
 *
 * - `hello`: once per connection (and again after a stalled connection drained): the current
 *   state, the whole chart history and the recent errors.
 * - `update`: at most every `updateIntervalMs`: the current state plus what is new since the
 *   previous update (chart points, task-stream bars, errors).
 *
 * Every message is bounded: its size depends on the workers, the functions shown and the caps,
 * never on how many tasks ran.
 */

/** One row of the workers table. */
export interface DashWorker {
  readonly id: string
  readonly name: string
  readonly host: string
  readonly procs: number
  readonly state: string
  readonly running: number
  readonly queued: number
  readonly done: number
  readonly failed: number
  /** CPU in cores summed over its processes (2 = two busy cores). */
  readonly cpu: number
  /** Resident memory of the daemon and its processes; the memory it may use. Bytes. */
  readonly memoryRss: number
  readonly memoryBytes: number
  /** Bytes of results it holds. */
  readonly heldBytes: number
  /**
   * Its memory manager's figures (bytes), for the stacked bar: managed in memory, unmanaged
   * (RSS less managed), spilled to disk, its limit; its memory state and whether it is paused.
   * Null for a worker that reports none.
   */
  readonly memory: DashWorkerMemory | null
  readonly lastHeartbeatMsAgo: number
  /** Estimated remaining work per process. Milliseconds. */
  readonly occupancyMs: number
}

export interface DashWorkerMemory {
  readonly managed: number
  readonly unmanaged: number
  readonly spilled: number
  readonly limit: number
  readonly state: string
  readonly paused: boolean
}

/** Progress of one function (by its label, as `fnLabel` names it). */
export interface DashFunction {
  readonly fn: string
  readonly pending: number
  readonly running: number
  readonly done: number
  readonly erred: number
}

/** One point of the charts; all values null marks a gap (nobody was watching). */
export interface DashPoint {
  /** Wall clock, milliseconds since the epoch. */
  readonly t: number
  /** Tasks ended per second since the previous point. */
  readonly throughput: number | null
  /** Tasks waiting for a process: in the coordinator's queue or queued on a worker. */
  readonly queued: number | null
  /** Tasks running on the workers. */
  readonly running: number | null
  /** Mean estimated remaining work per process over the workers. Milliseconds. */
  readonly occupancyMs: number | null
}

/** A task that failed on a worker. */
export interface DashError {
  /** Running number of the error since the dashboard started. */
  readonly seq: number
  /** When the coordinator heard of it. Milliseconds since the epoch. */
  readonly atMs: number
  readonly fn: string
  readonly workerId: string
  /** The worker's name, once known. */
  worker: string
  readonly name: string
  readonly message: string
  readonly code?: string
  /** The task-side stack (with `caused by:` lines for causes), cut to `maxStackChars`. */
  readonly stack?: string
}

/**
 * One bar of the task stream: `[function index into fns, worker id, start, end, ok]`, with start
 * and end in milliseconds relative to the update's `t` (so negative).
 */
export type DashBar = readonly [fn: number, workerId: string, start: number, end: number, ok: 0 | 1]

export interface DashStream {
  readonly fns: readonly string[]
  readonly bars: readonly DashBar[]
  /** Tasks that ended since the previous update; more than `bars.length` means a sample. */
  readonly seen: number
}

export interface DashboardUpdate {
  /** Server wall clock, milliseconds since the epoch. */
  readonly t: number
  readonly coordinator: { version: string; uptimeSeconds: number; clients: number }
  readonly totals: { submitted: number; finished: number; erred: number; cancelled: number }
  readonly tasks: {
    waiting: number
    queued: number
    processing: number
    memory: number
    erred: number
    noWorker: number
  }
  readonly tasksPerSecond: number
  /** The most active workers (`STATUS_TOP_N`, as in `/api/status`). */
  readonly workers: readonly DashWorker[]
  /** Workers connected; more than `workers.length` when the list was cut. */
  readonly workersTotal: number
  readonly functions: readonly DashFunction[]
  /** Functions known; more than `functions.length` when the list was cut. */
  readonly functionsTotal: number
  readonly stream: DashStream
  /** Chart points since the previous update. */
  readonly points: readonly DashPoint[]
  /** Errors since the previous update, oldest first (at most `errorsKept`). */
  readonly errors: readonly DashError[]
  readonly errorsTotal: number
}

export interface DashboardHello {
  readonly update: DashboardUpdate
  /** The chart history, oldest first. */
  readonly history: readonly DashPoint[]
  /** The recent errors, oldest first. */
  readonly errors: readonly DashError[]
  readonly config: { updateIntervalMs: number; sampleIntervalMs: number; streamCap: number }
}
