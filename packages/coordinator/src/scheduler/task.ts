import type { FnStats } from './estimates.js'
import type { QueueGroup } from './group.js'
import { TaskState } from './states.js'
import type { WorkerRecord } from './worker.js'

/**
 * The scheduler's record of one task. Kept small and of one fixed shape (about 25 fields, numbers
 * small integers): a queued task costs ~250 bytes here plus its key and one queue slot.
 * Rarely used data (`killedOn`) is allocated only when needed.
 */
export class TaskRecord {
  state: TaskState = TaskState.WAITING
  readonly key: string
  readonly fn: FnStats
  readonly clientId: string
  readonly priority: number
  /** Submission order: FIFO among equal priorities. */
  readonly seq: number
  /** The queue group: tasks with the same resources and worker restrictions. */
  readonly group: QueueGroup

  /** The client (a future) still refers to the key. */
  wanted = true
  /** Runs again this many times if the function throws (`shouldRetry` decides). */
  readonly retries: number
  /** 1 for the first run; each retry after an error adds one. */
  attempt = 1

  deps: TaskRecord[] | null = null
  /** May hold forgotten tasks (compacted lazily); `liveDependents` counts the others. */
  dependents: TaskRecord[] | null = null
  /** Dependents not forgotten: while > 0, the record is kept as lineage. */
  liveDependents = 0
  /** Dependents still waiting, queued or processing: while > 0, the data is kept. */
  pendingDependents = 0
  /** Dependencies not in memory (meaningful while waiting). */
  waitingOn = 0

  /** Workers holding the result (memory state); usually one. */
  whoHas: WorkerRecord[] | null = null
  /** Size of the result in bytes (the hint until it finishes). */
  nbytes: number

  /** Where it is assigned (processing state only). */
  run: Assignment | null = null

  /** Data a client put on a worker: no function, so no lineage to recompute it from. */
  scattered = false

  /** Times a worker died while it (possibly) ran this task. */
  suspicious = 0
  killedOn: string[] | null = null
  /** Has an entry (live or stale) in its group's queue. */
  inQueue = false

  /** The worker it is assigned to (processing state), else null. */
  get worker(): WorkerRecord | null {
    return this.run === null ? null : this.run.worker
  }

  constructor(
    key: string,
    fn: FnStats,
    clientId: string,
    priority: number,
    seq: number,
    group: QueueGroup,
    retries: number,
    nbytes: number,
  ) {
    this.key = key
    this.fn = fn
    this.clientId = clientId
    this.priority = priority
    this.seq = seq
    this.group = group
    this.retries = retries
    this.nbytes = nbytes
  }
}

/**
 * One placement of a task on a worker, alive while the task is processing there. Kept apart
 * from the task record so that queued tasks do not carry these fields (and their numbers, often
 * fractional, do not change the record's field layout in V8 after millions were created).
 */
export class Assignment {
  readonly task: TaskRecord
  readonly worker: WorkerRecord
  /** Its share of `worker.occupancyMs`: remaining compute plus input transfer. Milliseconds. */
  costMs: number
  /** Input transfer time to `worker`, estimated at assignment. Milliseconds. */
  transferMs: number
  /** When it started (reported, or inferred from the running window); -1 when not started. */
  startedAt: number
  /** The worker reported the start. */
  startReported = false
  /** Never steal it: it started, or the victim refused once. */
  noSteal = false
  /** The thief while a steal request is in flight. */
  steal: WorkerRecord | null = null
  /** Its cost on the thief while the steal is in flight. Milliseconds. */
  stealCostMs = 0
  /**
   * It waits for futures of its own executor (the worker said `seceded`): it holds no slot, so
   * the worker may run another task meanwhile, and it costs no occupancy until it rejoins.
   */
  seceded = false
  /**
   * When it was assigned, if a process was free for it then (it starts as soon as it arrives):
   * its result, minus its run time, measures the worker's round trip (`WorkerRecord.roundTripMs`).
   * -1 otherwise (it may wait behind others there), and -1 once another task goes to the same
   * worker in the same flush: the first of a burst comes back only after the worker has taken
   * in the whole burst, which says more about the burst than about the round trip.
   */
  sentIdleAt: number

  constructor(
    task: TaskRecord,
    worker: WorkerRecord,
    transferMs: number,
    costMs: number,
    startedAt: number,
  ) {
    this.task = task
    this.worker = worker
    this.transferMs = transferMs
    this.costMs = costMs
    this.startedAt = startedAt
    this.sentIdleAt = startedAt
  }
}

/** Queue order: higher priority first, then earlier submission. */
export function taskBefore(a: TaskRecord, b: TaskRecord): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)
}
