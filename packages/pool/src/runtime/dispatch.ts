/**
 * The dispatch policy, pure: may one more task go to a child that already has work?
 *
 * A child runs one task at a time; tasks handed to it wait in its own queue. Keeping a few
 * fast tasks waiting there saves a round trip per task, but a task parked behind a slow one
 * could have run elsewhere. So:
 *
 * - an idle child takes any task;
 * - a function never measured goes only to idle children (it may be slow);
 * - otherwise a child takes more while the work estimated to be waiting in it is under
 *   `TARGET_QUEUED_MS`, at most `MAX_DEPTH` tasks; a head task running past its estimate
 *   counts its overrun as waiting work, so a stuck child gets nothing more. Behind a head task
 *   shorter than `SHORT_HEAD_MS` the waiting work is counted without the head: such a child
 *   always holds its next task, so it never idles for the hop to the pool and back (a 2 ms
 *   task would otherwise wait a pipe round trip after every run); behind a longer head it is
 *   counted with it (nothing waits behind a slow task: it could run elsewhere).
 *
 * An estimate can be wrong (a function fast on small inputs, slow on large ones): when a child's
 * running task has overrun its estimate by `RECLAIM_OVERRUN_MS` while tasks wait behind it and
 * another child is idle, the pool takes the waiting tasks back (`RECLAIM`) to run them elsewhere.
 * The child answers with what it gave up, so no task ever runs twice.
 */
export const DispatchLimits = Object.freeze({
  /** Estimated ms of work a busy child may hold. */
  TARGET_QUEUED_MS: 1,
  /** A running task shorter than this (estimated) may have the next one waiting behind it, in ms. */
  SHORT_HEAD_MS: 10,
  /** Tasks a child may hold, running one included. */
  MAX_DEPTH: 64,
  /** How far past its estimate a running task may go before the tasks behind it are taken back. */
  RECLAIM_OVERRUN_MS: 5,
  /** How often the pool looks for such a child while one may exist, in ms. */
  REBALANCE_INTERVAL_MS: 10,
})

export interface ChildLoad {
  /** Tasks handed to the child and not finished. */
  readonly inFlight: number
  /** Of those, how many have no estimate. */
  readonly unknownInFlight: number
  /** Sum of the estimates of those with one, in ms. */
  readonly estimatedMs: number
  /** The estimate of the first of them (the running one), in ms; NaN if unknown or none. */
  readonly headEstimateMs: number
  /** How far the running task is past its estimate, in ms (0 if not). */
  readonly overrunMs: number
}

/** Whether a child with `load` may take a task estimated at `estimateMs` (NaN: unknown). */
export function canAccept(load: ChildLoad, estimateMs: number): boolean {
  if (load.inFlight === 0) return true
  if (Number.isNaN(estimateMs) || load.unknownInFlight > 0) return false
  if (load.inFlight >= DispatchLimits.MAX_DEPTH) return false
  const head = load.headEstimateMs < DispatchLimits.SHORT_HEAD_MS ? load.headEstimateMs : 0
  return load.estimatedMs - head + load.overrunMs < DispatchLimits.TARGET_QUEUED_MS
}

/** The waiting work a load stands for, to pick the least loaded child. */
export function loadScore(load: ChildLoad): number {
  return load.unknownInFlight > 0 ? Infinity : load.estimatedMs + load.overrunMs
}

/** Whether the tasks waiting in a child with `load` should be taken back (if some child is idle). */
export function shouldReclaim(load: ChildLoad): boolean {
  return load.inFlight > 1 && load.overrunMs > DispatchLimits.RECLAIM_OVERRUN_MS
}
