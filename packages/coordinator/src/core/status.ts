import { CLUSTERPOOL_VERSION } from '@clusterpool/transport'

import type { TaskCounts } from '../scheduler/views.js'
import type { CoordinatorCore } from './coordinator-core.js'
import type { WorkerSession } from './sessions.js'

/** One worker on the status page. */
export interface WorkerStatus {
  id: string
  name: string
  host: string
  pid: number
  procs: number
  state: string
  resources: Readonly<Record<string, number>>
  /** Tasks running on it and waiting there for a process (scheduler's view). */
  running: number
  queued: number
  /** Of the running, tasks waiting for their executors' futures (their slots are free). */
  waiting: number
  done: number
  failed: number
  /** Estimated remaining work per process. Milliseconds. */
  occupancyMs: number
  /** The measured round trip to it, which sizes its queue of tiny tasks. Milliseconds. */
  roundTripMs: number
  /** CPU in cores, resident memory and held result bytes, from its last heartbeat. */
  cpu: number
  memoryRss: number
  memoryBytes: number
  heldBytes: number
  /**
   * Its memory manager's figures from its last heartbeat (bytes): managed (held values in
   * memory), spilled to disk, unmanaged (RSS less managed), its limit, and its memory state
   * (`ok`, `spilling`, `paused`, `restarting`). Null for a worker that reports none.
   */
  memory: WorkerMemoryStatus | null
  /** Milliseconds since its last message. */
  lastHeartbeatMsAgo: number
  versions: { node: string; clusterpool: string }
}

export interface WorkerMemoryStatus {
  limitBytes: number
  rssBytes: number
  managedBytes: number
  unmanagedBytes: number
  spilledBytes: number
  spilledCount: number
  state: string
  /** It told the coordinator it is over its pause fraction, and gets no new tasks. */
  paused: boolean
}

/** A worker's memory figures for the status, or null when it sends none. */
export function memoryStatus(w: WorkerSession): WorkerMemoryStatus | null {
  const m = w.memory
  if (m === undefined) return null
  return {
    limitBytes: m.limitBytes,
    rssBytes: m.rssBytes,
    managedBytes: m.managedBytes,
    unmanagedBytes: Math.max(0, m.rssBytes - m.managedBytes),
    spilledBytes: m.spilledBytes,
    spilledCount: m.spilledCount,
    state: clip(m.state),
    paused: w.memoryPaused,
  }
}

/**
 * How many workers and functions `/api/status` lists at most: the `STATUS_TOP_N` most active
 * (workers by running and queued tasks, then by tasks done; functions by tasks observed), in
 * their usual order, with the total count beside them. Strings peers chose (names, hosts,
 * function keys, versions) are cut to `STATUS_TEXT_CHARS`. The status is then a few hundred
 * kilobytes at most, whatever the number of functions, workers or clients.
 */
export const STATUS_TOP_N = 100
/** Characters kept of each peer-chosen string in the status (see `STATUS_TOP_N`). */
export const STATUS_TEXT_CHARS = 200
/** Resources listed per worker in the status. */
const STATUS_RESOURCES = 32

/**
 * `GET /api/status`. Bounded: at most `STATUS_TOP_N` workers and functions (the most active;
 * `workersTotal` and `functionsTotal` count all), strings cut to `STATUS_TEXT_CHARS`.
 */
export interface ClusterStatus {
  coordinator: { version: string; url?: string; uptimeSeconds: number; clients: number }
  /** The `STATUS_TOP_N` most active workers (all of them when there are fewer). */
  workers: WorkerStatus[]
  /** Workers connected; more than `workers.length` when the list was cut. */
  workersTotal: number
  tasks: TaskCounts
  totals: { submitted: number; finished: number; erred: number; cancelled: number }
  /** Tasks finished (or erred) per second, over the last 5 seconds. */
  tasksPerSecond: number
  /** Duration estimates of the `STATUS_TOP_N` functions with the most tasks observed. */
  functions: { fnKey: string; estimateMs: number; observed: number }[]
  /** Functions known; more than `functions.length` when the list was cut. */
  functionsTotal: number
  /** Values relayed between workers and to clients (results kept on workers, inputs moved). */
  transfers: { values: number; bytes: number }
}

export function buildStatus(
  core: CoordinatorCore,
  sessions: WorkerSession[],
  url?: string,
): ClusterStatus {
  const views = new Map(core.scheduler.workers().map((v) => [v.id, v]))
  const now = Date.now()
  const shown = topN(sessions, (w) => {
    const v = views.get(w.id)
    return v === undefined ? 0 : (v.processing + v.queued) * 2 ** 32 + v.done + v.failed
  })
  const estimates = core.scheduler
    .estimates()
    .filter((e) => e.observed > 0 || !e.fnKey.startsWith('<'))
  return {
    coordinator: {
      version: CLUSTERPOOL_VERSION,
      ...(url === undefined ? {} : { url }),
      uptimeSeconds: Math.round((now - core.startedAt) / 1000),
      clients: core.clientCount,
    },
    workers: shown.map((w) => {
      const v = views.get(w.id)
      return {
        id: w.id,
        name: clip(w.name),
        host: clip(w.host),
        pid: w.pid,
        procs: w.procs,
        state: w.state,
        resources: clipResources(w.resources),
        running: v?.processing ?? 0,
        queued: v?.queued ?? 0,
        waiting: v?.seceded ?? 0,
        done: v?.done ?? 0,
        failed: v?.failed ?? 0,
        occupancyMs: v ? v.occupancyMs / w.procs : 0,
        roundTripMs: v?.roundTripMs ?? 0,
        cpu: w.cpu,
        memoryRss: w.memoryRss,
        memoryBytes: w.memoryBytes,
        heldBytes: w.heldBytes,
        memory: memoryStatus(w),
        lastHeartbeatMsAgo: now - w.lastHeartbeat,
        versions: { node: clip(w.versions.node), clusterpool: clip(w.versions.clusterpool) },
      }
    }),
    workersTotal: sessions.length,
    tasks: core.scheduler.taskCounts(),
    totals: { ...core.totals },
    tasksPerSecond: core.throughput.perSecond(),
    functions: topN(estimates, (e) => e.observed).map((e) => ({
      fnKey: clip(e.fnKey),
      estimateMs: e.estimateMs,
      observed: e.observed,
    })),
    functionsTotal: estimates.length,
    transfers: { ...core.transfers },
  }
}

/** The `STATUS_TOP_N` items with the highest `activity`, in their original order. */
function topN<T>(items: readonly T[], activity: (item: T) => number): readonly T[] {
  if (items.length <= STATUS_TOP_N) return items
  return items
    .map((item, i) => ({ item, i, a: activity(item) }))
    .sort((x, y) => y.a - x.a || x.i - y.i)
    .slice(0, STATUS_TOP_N)
    .sort((x, y) => x.i - y.i)
    .map((x) => x.item)
}

/** `text` cut to `STATUS_TEXT_CHARS`. */
export function clip(text: string): string {
  return text.length <= STATUS_TEXT_CHARS ? text : `${text.slice(0, STATUS_TEXT_CHARS - 1)}…`
}

function clipResources(resources: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  let n = 0
  for (const [name, amount] of Object.entries(resources)) {
    if (n++ === STATUS_RESOURCES) break
    out[clip(name)] = amount
  }
  return out
}
