import { readFileSync } from 'node:fs'
import { totalmem } from 'node:os'

import { InvalidOptionError, checkMs } from '@clusterpool/protocol'

/**
 * How a worker daemon manages its memory (Dask's nanny is the model: `worker-memory.rst`). Every
 * fraction is of `memoryLimitBytes`, the budget of the daemon and its task processes together.
 */
export interface MemoryOptions {
  /**
   * The budget for the daemon and all its task processes together, in bytes (their summed
   * resident memory). Default: the host's memory (or its cgroup's limit, if lower) divided by
   * `hostWorkers`.
   */
  memoryLimitBytes?: number
  /** How many workers share this host, for the default `memoryLimitBytes`. Default 1. */
  hostWorkers?: number
  /** Past this fraction, held values (by their size) spill to disk, least recently used first. Default 0.6. */
  memoryTargetFraction?: number
  /** Past this fraction of resident memory (RSS), spill until RSS is back under the target. Default 0.7. */
  memorySpillFraction?: number
  /** Past this fraction of RSS, take no new tasks (the coordinator is told) until RSS is under the target. Default 0.8. */
  memoryPauseFraction?: number
  /**
   * The task processes together may use at most this fraction, less the daemon's own RSS; each
   * process gets an equal share and is killed past it (its task fails with `WorkerDiedError`).
   * Default 0.95.
   */
  memoryTerminateFraction?: number
  /**
   * Where spilled values go: a fresh folder is made in it and removed when the daemon stops.
   * Default: the OS temporary directory.
   */
  localDirectory?: string
  /** The most bytes spilled to disk at once; past it spilling stops and the worker pauses (as on a full disk). Default `Infinity`. */
  maxSpillBytes?: number
  /** How often RSS is sampled. Milliseconds; default 100. */
  memoryMonitorIntervalMs?: number
  /**
   * A worker paused this long with nothing left to spill restarts its task processes (their
   * running tasks fail with `WorkerDiedError` and may be retried), rather than staying paused
   * forever. Milliseconds; default 30000.
   */
  pausedRestartTimeoutMs?: number
}

export interface ResolvedMemoryOptions {
  readonly memoryLimitBytes: number
  readonly memoryTargetFraction: number
  readonly memorySpillFraction: number
  readonly memoryPauseFraction: number
  readonly memoryTerminateFraction: number
  readonly localDirectory: string | undefined
  readonly maxSpillBytes: number
  readonly memoryMonitorIntervalMs: number
  readonly pausedRestartTimeoutMs: number
}

export const MEMORY_DEFAULTS = Object.freeze({
  hostWorkers: 1,
  memoryTargetFraction: 0.6,
  memorySpillFraction: 0.7,
  memoryPauseFraction: 0.8,
  memoryTerminateFraction: 0.95,
  maxSpillBytes: Infinity,
  memoryMonitorIntervalMs: 100,
  pausedRestartTimeoutMs: 30_000,
})

/** Validates the memory options once; every message names the option. */
export function resolveMemoryOptions(o: MemoryOptions): ResolvedMemoryOptions {
  const hostWorkers = o.hostWorkers ?? MEMORY_DEFAULTS.hostWorkers
  if (!Number.isInteger(hostWorkers) || hostWorkers < 1)
    throw new InvalidOptionError(
      `hostWorkers must be a positive integer, got ${String(hostWorkers)}`,
    )
  if (
    o.memoryLimitBytes !== undefined &&
    !(o.memoryLimitBytes > 0 && o.memoryLimitBytes < Infinity)
  )
    throw new InvalidOptionError(
      `memoryLimitBytes must be a positive number of bytes, got ${String(o.memoryLimitBytes)}`,
    )
  const fraction = (name: keyof typeof MEMORY_DEFAULTS & `memory${string}Fraction`): number => {
    const v = o[name] ?? MEMORY_DEFAULTS[name]
    if (typeof v !== 'number' || !(v > 0 && v < 1))
      throw new InvalidOptionError(
        `${name} must be a fraction above 0 and below 1, got ${String(v)}`,
      )
    return v
  }
  const target = fraction('memoryTargetFraction')
  const spill = fraction('memorySpillFraction')
  const pause = fraction('memoryPauseFraction')
  const terminate = fraction('memoryTerminateFraction')
  if (!(target <= spill && spill <= pause && pause < terminate))
    throw new InvalidOptionError(
      `the memory fractions must rise: memoryTargetFraction (${target}) ≤ memorySpillFraction ` +
        `(${spill}) ≤ memoryPauseFraction (${pause}) < memoryTerminateFraction (${terminate}) < 1`,
    )
  const maxSpillBytes = o.maxSpillBytes ?? MEMORY_DEFAULTS.maxSpillBytes
  if (typeof maxSpillBytes !== 'number' || !(maxSpillBytes >= 0))
    throw new InvalidOptionError(
      `maxSpillBytes must be a number of bytes ≥ 0 (or Infinity), got ${String(maxSpillBytes)}`,
    )
  if (
    o.localDirectory !== undefined &&
    (typeof o.localDirectory !== 'string' || o.localDirectory === '')
  )
    throw new InvalidOptionError(
      `localDirectory must be a directory path, got ${String(o.localDirectory)}`,
    )
  return Object.freeze({
    memoryLimitBytes: o.memoryLimitBytes ?? Math.floor(hostMemoryBytes() / hostWorkers),
    memoryTargetFraction: target,
    memorySpillFraction: spill,
    memoryPauseFraction: pause,
    memoryTerminateFraction: terminate,
    localDirectory: o.localDirectory,
    maxSpillBytes,
    memoryMonitorIntervalMs: checkMs(
      o.memoryMonitorIntervalMs ?? MEMORY_DEFAULTS.memoryMonitorIntervalMs,
      'memoryMonitorIntervalMs',
    ),
    pausedRestartTimeoutMs: checkMs(
      o.pausedRestartTimeoutMs ?? MEMORY_DEFAULTS.pausedRestartTimeoutMs,
      'pausedRestartTimeoutMs',
      { allowInfinity: true },
    ),
  })
}

/** The host's memory, or its cgroup's limit (v2 `memory.max`, v1 `memory.limit_in_bytes`) when lower. Bytes. */
export function hostMemoryBytes(): number {
  let limit = totalmem()
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const n = Number(readFileSync(file, 'latin1').trim())
      if (n > 0 && n < limit) limit = n
    } catch {
      // Not there (no cgroup, or another version), or "max".
    }
  }
  return limit
}
