import { WorkerRecordState } from './states.js'
import { RoundTripWindow } from './round-trip.js'
import type { Assignment, TaskRecord } from './task.js'

/** Resources a task holds while assigned, as `[name, amount]` pairs. */
export type ResourceNeed = readonly (readonly [string, number])[]

/** A task the worker was told to drop but has not answered for yet: it may still hold a process and resources. */
export interface Zombie {
  readonly need: ResourceNeed | null
}

/**
 * The scheduler's record of one worker daemon.
 *
 * `assigned` keeps assignment order, which is the order the worker runs tasks in (FIFO). The
 * first `procs` of them are treated as started ("the running window") even before the worker
 * reports it: they are never stolen, and they count as suspicious if the worker dies.
 */
export class WorkerRecord {
  state: WorkerRecordState = WorkerRecordState.RUNNING
  readonly id: string
  readonly name: string
  readonly host: string
  readonly procs: number
  readonly resources: ReadonlyMap<string, number>
  /** Resources held by assigned tasks, incoming steals and zombies. */
  readonly used = new Map<string, number>()
  readonly assigned = new Set<Assignment>()
  /** Tasks being stolen towards this worker (request in flight). */
  readonly incoming = new Set<Assignment>()
  readonly zombies = new Map<string, Zombie>()
  /** Tasks whose results this worker holds. */
  readonly hasData = new Set<TaskRecord>()
  /**
   * Its resident memory as a fraction of its memory limit, from its last heartbeat (0 when it
   * reports none). From `NEAR_MEMORY_LIMIT` on, placement prefers any other worker.
   */
  memoryFraction = 0
  /** Estimated remaining work of its assigned tasks (and incoming steals). Milliseconds. */
  occupancyMs = 0
  /**
   * Considered as an idle thief since its load last changed (see `stealForIdle`): it is not
   * considered again until its load changes or the next tick.
   */
  idleScanned = false
  done = 0
  failed = 0
  /** Of `assigned`, the tasks waiting for their executors' futures: they hold no slot. */
  seceded = 0
  /** Most tasks it may hold while prefetching pays: `ceil(procs × saturationFactor) + prefetch` (see `capOf`). */
  readonly baseCap: number
  /** Most tasks it may hold when the next one is tiny (the bound of `tinyCapOf`). */
  readonly tinyCap: number
  /**
   * The measured round trip to this worker: from assigning a task to a free process to its
   * result, minus the task's own run time (wire, daemon, pool and coordinator time, both ways).
   * The median of its recent samples (`RoundTripWindow`); `roundTripMs` (the option) until the
   * first sample. Milliseconds.
   */
  roundTripMs: number
  /** Its recent round-trip samples. */
  readonly roundTrip = new RoundTripWindow()
  /** The last task attached here, and in which flush (`SchedulerState.flushSeq`): see `attach`. */
  lastAttached: Assignment | null = null
  lastAttachedSeq = -1

  constructor(
    id: string,
    name: string,
    host: string,
    procs: number,
    resources: ReadonlyMap<string, number>,
    baseCap: number,
    tinyCap: number,
    roundTripMs: number,
  ) {
    this.id = id
    this.name = name
    this.host = host
    this.procs = procs
    this.resources = resources
    this.baseCap = baseCap
    this.tinyCap = tinyCap
    this.roundTripMs = roundTripMs
  }

  /** Task slots in use: assigned (but not seceded), incoming steals, and zombies. */
  get load(): number {
    return this.assigned.size - this.seceded + this.incoming.size + this.zombies.size
  }

  /** When a task given now would start, roughly: at once with a free process, else after its share of the backlog. */
  startDelayMs(): number {
    return this.load < this.procs ? 0 : this.occupancyMs / this.procs
  }

  /** The worker has these resources at all (ignoring what is in use). */
  hasResources(need: ResourceNeed | null): boolean {
    if (need === null) return true
    for (const [name, amount] of need) {
      if ((this.resources.get(name) ?? 0) < amount) return false
    }
    return true
  }

  /** The resources are free now. */
  resourcesFree(need: ResourceNeed | null): boolean {
    if (need === null) return true
    for (const [name, amount] of need) {
      if ((this.resources.get(name) ?? 0) - (this.used.get(name) ?? 0) < amount) return false
    }
    return true
  }

  /** Takes (`sign` 1) or gives back (`sign` -1) resources. */
  reserve(need: ResourceNeed | null, sign: 1 | -1): void {
    if (need === null) return
    for (const [name, amount] of need) {
      const v = (this.used.get(name) ?? 0) + sign * amount
      this.used.set(name, Math.abs(v) < 1e-9 ? 0 : v)
    }
  }
}
