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
  done: number
  failed: number
  /** Estimated remaining work per process. Milliseconds. */
  occupancyMs: number
  /** CPU in cores, resident memory and held result bytes, from its last heartbeat. */
  cpu: number
  memoryRss: number
  memoryBytes: number
  heldBytes: number
  /** Milliseconds since its last message. */
  lastHeartbeatMsAgo: number
  versions: { node: string; clusterpool: string }
}

/** `GET /api/status`. */
export interface ClusterStatus {
  coordinator: { version: string; url?: string; uptimeSeconds: number; clients: number }
  workers: WorkerStatus[]
  tasks: TaskCounts
  totals: { submitted: number; finished: number; erred: number; cancelled: number }
  /** Tasks finished (or erred) per second, over the last 5 seconds. */
  tasksPerSecond: number
  /** Duration estimates per function. */
  functions: { fnKey: string; estimateMs: number; observed: number }[]
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
  return {
    coordinator: {
      version: CLUSTERPOOL_VERSION,
      ...(url === undefined ? {} : { url }),
      uptimeSeconds: Math.round((now - core.startedAt) / 1000),
      clients: core.clientCount,
    },
    workers: sessions.map((w) => {
      const v = views.get(w.id)
      return {
        id: w.id,
        name: w.name,
        host: w.host,
        pid: w.pid,
        procs: w.procs,
        state: w.state,
        resources: w.resources,
        running: v?.processing ?? 0,
        queued: v?.queued ?? 0,
        done: v?.done ?? 0,
        failed: v?.failed ?? 0,
        occupancyMs: v ? v.occupancyMs / w.procs : 0,
        cpu: w.cpu,
        memoryRss: w.memoryRss,
        memoryBytes: w.memoryBytes,
        heldBytes: w.heldBytes,
        lastHeartbeatMsAgo: now - w.lastHeartbeat,
        versions: w.versions,
      }
    }),
    tasks: core.scheduler.taskCounts(),
    totals: { ...core.totals },
    tasksPerSecond: core.throughput.perSecond(),
    functions: core.scheduler
      .estimates()
      .filter((e) => e.observed > 0 || !e.fnKey.startsWith('<'))
      .map((e) => ({ fnKey: e.fnKey, estimateMs: e.estimateMs, observed: e.observed })),
    transfers: { ...core.transfers },
  }
}
