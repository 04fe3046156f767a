import { availableParallelism } from 'node:os'

import { InvalidOptionError, MAX_TIMER_MS, checkMs } from '@clusterpool/protocol'

/** How a `TaskPool` runs its tasks. Every field is validated once, in the constructor. */
export interface TaskPoolOptions {
  /** Child processes (isolated, killable) or worker threads (cheaper, share the process). */
  kind: 'process' | 'thread'
  /** The most processes or threads alive at once, started lazily. Default `os.availableParallelism()`. */
  maxWorkers?: number
  /** Replace a process or thread after it has run this many tasks. Default `Infinity`. */
  maxTasksPerChild?: number
  /** Milliseconds a task may run when its `PoolTask.timeoutMs` is absent. Default: none. */
  taskTimeoutMs?: number
  /** Extra Node flags for each child process, or for each thread where Node allows them. Default `[]`. */
  execArgv?: string[]
  /** Variables added to `process.env` for each child (a copy for threads). Default: none added. */
  env?: Record<string, string>
  /** Stop a process or thread that has had no task for this many milliseconds. Default: never. */
  idleTimeoutMs?: number
  /**
   * Heap limit per child, in MiB: `--max-old-space-size` for processes, `resourceLimits.maxOldGenerationSizeMb`
   * for threads. Default: Node's own limit.
   */
  memoryLimitMb?: number
  /**
   * Modules (file URLs or specifiers) each child imports before its first task. The client's
   * executors pass their `task-setup` module here, which gives tasks `currentTask().executor`.
   * Default: none.
   */
  setupModules?: readonly string[]
  /**
   * Tasks that may wait at once in one child for futures of their executors
   * (`currentTask().executor`). A waiting task frees its slot, so the child takes another task;
   * a child holding this many waits takes no more, and when every child is full of waiting
   * tasks the pool starts one more child for the next task, so that nested tasks never deadlock
   * on slots. Bounds the memory of suspended tasks per child. Default 64.
   */
  maxWaitingPerChild?: number
  /**
   * Child processes only: a file holding a number of bytes, each process's share of memory,
   * optionally followed by lines `<pid> <bytes>` that give one process a share of its own
   * (`formatShares`). Each process checks its own resident memory (RSS, Buffers included) against it, every 5 ms
   * when near it and less often far under it (as long as the process would take to grow to it
   * at 32 GiB/s, at most 100 ms), re-reading the file every 100 ms, and is killed past it; its
   * task fails with a `WorkerDiedError` that says memory and names both figures. Whoever owns
   * the file moves the share by rewriting it. Default: none (no guard).
   */
  rssShareFile?: string
}

/** The options after validation, defaults filled in. */
export interface ResolvedPoolOptions {
  readonly kind: 'process' | 'thread'
  readonly maxWorkers: number
  readonly maxTasksPerChild: number
  readonly taskTimeoutMs: number | undefined
  readonly execArgv: readonly string[]
  readonly env: Readonly<Record<string, string>> | undefined
  readonly idleTimeoutMs: number | undefined
  readonly memoryLimitMb: number | undefined
  readonly setupModules: readonly string[]
  readonly maxWaitingPerChild: number
  readonly rssShareFile: string | undefined
}

export const POOL_DEFAULTS = Object.freeze({
  maxTasksPerChild: Infinity,
  execArgv: Object.freeze([] as string[]),
  maxWaitingPerChild: 64,
})

const KNOWN = new Set([
  'kind',
  'maxWorkers',
  'maxTasksPerChild',
  'taskTimeoutMs',
  'execArgv',
  'env',
  'idleTimeoutMs',
  'memoryLimitMb',
  'setupModules',
  'maxWaitingPerChild',
  'rssShareFile',
])

/** Validates the options once, naming the option in every message. */
export function resolvePoolOptions(options: unknown): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('TaskPool options must be an object')
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`${key} is not a TaskPool option`)
  }
  if (o.kind !== 'process' && o.kind !== 'thread') {
    throw new InvalidOptionError(`kind must be 'process' or 'thread', got ${show(o.kind)}`)
  }
  const maxWorkers = o.maxWorkers ?? availableParallelism()
  if (!Number.isSafeInteger(maxWorkers) || (maxWorkers as number) < 1) {
    throw new InvalidOptionError(`maxWorkers must be a positive integer, got ${show(maxWorkers)}`)
  }
  const maxTasksPerChild = o.maxTasksPerChild ?? POOL_DEFAULTS.maxTasksPerChild
  if (
    maxTasksPerChild !== Infinity &&
    (!Number.isSafeInteger(maxTasksPerChild) || (maxTasksPerChild as number) < 1)
  ) {
    throw new InvalidOptionError(
      `maxTasksPerChild must be a positive integer or Infinity, got ${show(maxTasksPerChild)}`,
    )
  }
  const execArgv = o.execArgv ?? POOL_DEFAULTS.execArgv
  if (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string')) {
    throw new InvalidOptionError('execArgv must be an array of strings')
  }
  const env = o.env
  if (
    env !== undefined &&
    (typeof env !== 'object' ||
      env === null ||
      Object.values(env).some((v) => typeof v !== 'string'))
  ) {
    throw new InvalidOptionError('env must be an object whose values are strings')
  }
  const setupModules = o.setupModules ?? []
  if (!Array.isArray(setupModules) || setupModules.some((a) => typeof a !== 'string')) {
    throw new InvalidOptionError('setupModules must be an array of module URLs or specifiers')
  }
  const maxWaitingPerChild = o.maxWaitingPerChild ?? POOL_DEFAULTS.maxWaitingPerChild
  if (!Number.isSafeInteger(maxWaitingPerChild) || (maxWaitingPerChild as number) < 1) {
    throw new InvalidOptionError(
      `maxWaitingPerChild must be a positive integer, got ${show(maxWaitingPerChild)}`,
    )
  }
  return Object.freeze({
    kind: o.kind,
    setupModules: Object.freeze([...(setupModules as string[])]),
    maxWaitingPerChild: maxWaitingPerChild as number,
    maxWorkers: maxWorkers as number,
    maxTasksPerChild: maxTasksPerChild as number,
    taskTimeoutMs: checkMs(o.taskTimeoutMs, 'taskTimeoutMs', TIMER_MS_RANGE),
    execArgv: Object.freeze([...(execArgv as string[])]),
    env: env === undefined ? undefined : Object.freeze({ ...(env as Record<string, string>) }),
    idleTimeoutMs: checkMs(o.idleTimeoutMs, 'idleTimeoutMs', TIMER_MS_RANGE),
    memoryLimitMb: optionalPositive(o.memoryLimitMb, 'memoryLimitMb', 'MiB'),
    rssShareFile: optionalPath(o.rssShareFile, 'rssShareFile'),
  })
}

/**
 * The range of a timer delay in milliseconds (the pool's options, a task's own `timeoutMs`):
 * unset, or positive and short enough for `setTimeout`, which fires at once past `MAX_TIMER_MS`.
 */
export const TIMER_MS_RANGE = Object.freeze({ allowUndefined: true, max: MAX_TIMER_MS } as const)

function optionalPositive(value: unknown, name: string, unit: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new InvalidOptionError(`${name} must be a positive number of ${unit}, got ${show(value)}`)
  }
  return value
}

function optionalPath(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '')
    throw new InvalidOptionError(`${name} must be a file path, got ${show(value)}`)
  return value
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}
