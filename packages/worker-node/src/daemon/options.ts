import { availableParallelism, hostname } from 'node:os'

import { InvalidOptionError, checkMs } from '@clusterpool/protocol'

import {
  resolveMemoryOptions,
  type MemoryOptions,
  type ResolvedMemoryOptions,
} from './memory/options.js'

/** How a worker daemon joins a cluster, and manages its memory (`MemoryOptions`). */
export interface WorkerDaemonOptions extends MemoryOptions {
  /** The coordinator, `ws://host:8786` or `wss://…`. Required. */
  coordinatorUrl: string
  /** Task processes on this host. Default `os.availableParallelism()`. */
  procs?: number
  /** Name shown on the dashboard and used by `workers: [...]` restrictions. Default `<hostname>-<pid>`. */
  name?: string
  /** Abstract resources this worker offers, such as `{ GPU: 2 }`. Default: none. */
  resources?: Record<string, number>
  /** The coordinator's token. Default: none. */
  token?: string
  /** Extra CA certificates (PEM) to trust for `wss://`. Default: Node's. */
  ca?: string | Buffer
  /** First delay before reconnecting to a lost coordinator. Milliseconds; default 200. */
  reconnectInitialDelayMs?: number
  /** Longest delay between reconnection attempts. Milliseconds; default 5000. */
  reconnectMaxDelayMs?: number
  /** On SIGTERM/SIGINT, wait this long for running tasks before killing them. Milliseconds; default 30000. */
  drainTimeoutMs?: number
  /**
   * Modules each task process loads before its first task: the client's task-setup module
   * (`TASK_SETUP_MODULE` of `@clusterpool/client`) gives tasks `currentTask().executor`. The
   * `clusterpool worker` CLI passes it. Default: none (tasks then have no executor).
   */
  taskSetupModules?: readonly string[]
  /**
   * Tasks that may wait at once in one task process for futures of their executors (their slots
   * are free meanwhile); past it the process takes no more, and when every process is full of
   * waiting tasks one more is started. Default 64.
   */
  maxWaitingPerProc?: number
  /**
   * When the task processes start, each running a no-op once: `while-registering` (at once,
   * alongside connecting: the worker registers as soon as it can, and a task assigned before its
   * processes are up waits for them), `before-registering` (the worker registers only once they
   * are up, waiting at most 10 s: what `LocalCluster.start` asks of its workers, so that it pays
   * for them and the first tasks do not), or `lazy` (on the first tasks). A process start takes
   * hundreds of milliseconds. Default `while-registering`.
   */
  warmUp?: WarmUp
}

/** The values of `WorkerDaemonOptions.warmUp`. */
export const WARM_UP = ['while-registering', 'before-registering', 'lazy'] as const
export type WarmUp = (typeof WARM_UP)[number]

export type ResolvedWorkerDaemonOptions = Required<
  Omit<WorkerDaemonOptions, 'token' | 'ca' | keyof MemoryOptions>
> &
  Pick<WorkerDaemonOptions, 'token' | 'ca'> & { readonly memory: ResolvedMemoryOptions }

/** The delays: positive; `Infinity` passes (`drainTimeoutMs: Infinity` waits for tasks forever). */
const DELAY = Object.freeze({ allowInfinity: true } as const)

export function resolveWorkerDaemonOptions(o: WorkerDaemonOptions): ResolvedWorkerDaemonOptions {
  if (typeof o.coordinatorUrl !== 'string' || !/^wss?:\/\/.+/.test(o.coordinatorUrl)) {
    throw new InvalidOptionError(
      `coordinatorUrl must be a ws:// or wss:// URL, got ${String(o.coordinatorUrl)}`,
    )
  }
  const procs = o.procs ?? availableParallelism()
  if (!Number.isInteger(procs) || procs < 1)
    throw new InvalidOptionError(`procs must be a positive integer, got ${String(procs)}`)
  const resources = o.resources ?? {}
  for (const [k, v] of Object.entries(resources)) {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
      throw new InvalidOptionError(
        `resources.${k} must be a positive finite number, got ${String(v)}`,
      )
  }
  const out: ResolvedWorkerDaemonOptions = {
    coordinatorUrl: o.coordinatorUrl,
    procs,
    name: o.name ?? `${hostname()}-${process.pid}`,
    resources,
    reconnectInitialDelayMs: checkMs(
      o.reconnectInitialDelayMs ?? 200,
      'reconnectInitialDelayMs',
      DELAY,
    ),
    reconnectMaxDelayMs: checkMs(o.reconnectMaxDelayMs ?? 2000, 'reconnectMaxDelayMs', DELAY),
    drainTimeoutMs: checkMs(o.drainTimeoutMs ?? 30_000, 'drainTimeoutMs', DELAY),
    taskSetupModules: checkModules(o.taskSetupModules),
    maxWaitingPerProc: o.maxWaitingPerProc ?? 64,
    warmUp: o.warmUp ?? 'while-registering',
    memory: resolveMemoryOptions(o),
  }
  if (!Number.isSafeInteger(out.maxWaitingPerProc) || out.maxWaitingPerProc < 1)
    throw new InvalidOptionError(
      `maxWaitingPerProc must be a positive integer, got ${String(o.maxWaitingPerProc)}`,
    )
  if (!WARM_UP.includes(out.warmUp))
    throw new InvalidOptionError(
      `warmUp must be one of ${WARM_UP.join(', ')}, got ${String(o.warmUp)}`,
    )
  if (o.token !== undefined) out.token = o.token
  if (o.ca !== undefined) out.ca = o.ca
  return out
}

function checkModules(modules: unknown): readonly string[] {
  if (modules === undefined) return []
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string'))
    throw new InvalidOptionError('taskSetupModules must be an array of module URLs or specifiers')
  return Object.freeze([...(modules as string[])])
}

/** Parses `GPU=2,MEM=16e9` into `{ GPU: 2, MEM: 16e9 }`, naming the bad part. */
export function parseResources(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  if (text.trim() === '') return out
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_][\w.-]*)\s*=\s*([0-9.eE+]+)\s*$/.exec(part)
    const value = m ? Number(m[2]) : NaN
    if (!m || !(value > 0) || !Number.isFinite(value))
      throw new InvalidOptionError(
        `--resources: "${part}" is not KEY=N with a finite N > 0 (example: GPU=2,MEM=16e9)`,
      )
    out[m[1]!] = value
  }
  return out
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** Parses `4GB`, `512MiB` or `2e9` into bytes; `flag` names the option in the error. */
export function parseBytes(text: string, flag = '--memory-limit'): number {
  const m = /^\s*([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()]
  const value = m && unit !== undefined ? Number(m[1]) * unit : NaN
  if (!(value > 0))
    throw new InvalidOptionError(`${flag}: "${text}" is not a size like 4GB, 512MiB or 2e9`)
  return value
}
