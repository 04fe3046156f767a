import { InvalidOptionError, checkMs } from '@clusterpool/protocol'

/** Tuning of the scheduler. Every field is optional; the defaults suit most clusters. */
export interface SchedulerOptions {
  /**
   * Duration assumed for a function that has never finished yet. Milliseconds; default 500
   * (Dask's value). Deliberately pessimistic: the first wave of an unknown function is spread
   * thinly (at most the saturation cap per worker), and the first result replaces the guess.
   */
  defaultDurationMs?: number
  /** Bandwidth assumed between workers, for the cost of moving inputs. Bytes per second; default 100e6. */
  bandwidthBytesPerSecond?: number
  /**
   * Root-task queuing: a worker holds at most `ceil(procs × saturationFactor) + prefetch` assigned
   * tasks (running plus waiting on the worker) while prefetching pays (see `roundTripMs`), else
   * `procs`; the rest wait on the coordinator in priority order, where any worker that frees a
   * slot takes the next. Default 1.1 (Dask's value).
   */
  saturationFactor?: number
  /** Extra tasks per worker beyond the saturation cap, so the next task is already there when one finishes (hides a round trip). Default 1. */
  prefetch?: number
  /**
   * The coordinator–worker round trip that prefetching hides, and the first guess of the measured
   * one (`WorkerRecord.roundTripMs`, which sizes the queues of tiny tasks). Milliseconds; default 1. Workers
   * get tasks beyond their processes (`saturationFactor`, `prefetch`) only while the round trips
   * this saves until the queue runs dry (`queued tasks × roundTripMs / processes`) exceed the
   * spread of the function's observed durations: a task committed early to a worker may wait
   * there behind a long one while other processes idle. 0 never prefetches (except tiny tasks);
   * Infinity always does.
   */
  roundTripMs?: number
  /**
   * A function whose observed duration estimate is below this, or below the measured round trip
   * to the workers, is "tiny": each process of a worker may then hold `1 + ceil(round trip /
   * estimate)` of its tasks (at least 2, at most `tinyTaskDepth`), so that it never idles waiting
   * for its next assign (see `tinyCapOf` in slots.ts). Milliseconds; default 1. Set 0 to turn
   * deep queues off.
   */
  tinyTaskMs?: number
  /** Most tasks per process a worker may hold when the task is tiny (see `tinyTaskMs`). Default 256. */
  tinyTaskDepth?: number
  /** A task whose worker died this many times while it (possibly) ran fails with reason `killed-worker`. Default 3. */
  allowedFailures?: number
  /** Rebalance on `tick` by moving not-yet-started tasks from busy to idle workers. Default true. */
  workStealing?: boolean
  /**
   * A steal must make the task finish at least this much sooner than on its current worker; it
   * covers the steal's round trips and stops churn. Milliseconds; default 10 (Dask uses 10 ms).
   */
  stealLatencyMs?: number
  /**
   * A queued task that no connected worker could ever run (resources, `workers`) fails with
   * reason `no-worker` after waiting this long; 0 fails it at once. Milliseconds; default
   * Infinity (wait for a suitable worker to join, like Dask's default).
   */
  noWorkerTimeoutMs?: number
}

export type ResolvedSchedulerOptions = Readonly<Required<SchedulerOptions>>

export const SCHEDULER_DEFAULTS: ResolvedSchedulerOptions = Object.freeze({
  defaultDurationMs: 500,
  bandwidthBytesPerSecond: 100e6,
  saturationFactor: 1.1,
  prefetch: 1,
  roundTripMs: 1,
  tinyTaskMs: 1,
  tinyTaskDepth: 256,
  allowedFailures: 3,
  workStealing: true,
  stealLatencyMs: 10,
  noWorkerTimeoutMs: Infinity,
})

const POSITIVE = ['bandwidthBytesPerSecond', 'saturationFactor'] as const
/** Durations that may be 0 or `Infinity`. */
const NON_NEGATIVE_MS = [
  'roundTripMs',
  'tinyTaskMs',
  'stealLatencyMs',
  'noWorkerTimeoutMs',
] as const
const INTEGERS = { prefetch: 0, tinyTaskDepth: 1, allowedFailures: 1 } as const

/** Validates once, naming the option; applies the defaults. */
export function resolveSchedulerOptions(options: SchedulerOptions = {}): ResolvedSchedulerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('scheduler options must be an object')
  }
  const known = new Set(Object.keys(SCHEDULER_DEFAULTS))
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidOptionError(`options.${key} is not a scheduler option`)
  }
  const o: Required<SchedulerOptions> = { ...SCHEDULER_DEFAULTS }
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (o as Record<string, unknown>)[key] = value
  }
  checkMs(o.defaultDurationMs, 'options.defaultDurationMs')
  for (const key of POSITIVE) {
    const v = o[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
      throw new InvalidOptionError(
        `options.${key} must be a positive finite number, got ${String(v)}`,
      )
    }
  }
  for (const key of NON_NEGATIVE_MS) {
    checkMs(o[key], `options.${key}`, { allowZero: true, allowInfinity: true })
  }
  for (const [key, min] of Object.entries(INTEGERS) as [keyof typeof INTEGERS, number][]) {
    const v = o[key]
    if (!Number.isInteger(v) || v < min) {
      throw new InvalidOptionError(`options.${key} must be an integer >= ${min}, got ${String(v)}`)
    }
  }
  if (typeof o.workStealing !== 'boolean') {
    throw new InvalidOptionError(
      `options.workStealing must be a boolean, got ${String(o.workStealing)}`,
    )
  }
  return Object.freeze(o)
}
