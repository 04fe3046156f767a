/**
 * Messages between a worker daemon and the coordinator.
 *
 * Tasks are named by string keys the coordinator makes (`${clientId}:${id}`). A connection goes:
 *
 *   worker                         coordinator
 *     hello ───────────────────────▶            (nothing else until the answer)
 *           ◀─────────────────────── welcome | refuse (then close)
 *     heartbeat (every heartbeatIntervalMs), results, errors ─▶
 *           ◀─ assign, cancel, release
 *           ◀─ steal ──── stealReply ─▶          (a transaction: nothing runs twice)
 *           ◀─ fetch ──── data ───────▶
 *     memoryPause ─▶ (over the pause fraction / back under the target)
 *     dataLost ─▶    (a spilled value could not be read back)
 *     leaving ─▶ (graceful stop: finishes what runs, returns what waits)
 *           ◀─ shutdown (then close)
 */
import type { SerializedError } from '../errors/serialize.js'
import type { TaskOptions } from '../task/options.js'
import type { Refuse, Versions, WireFnRef } from './common.js'

// ─── worker → coordinator ────────────────────────────────────────────────────────────────

/** First message of a worker connection: what the worker is and what it offers. */
export interface WorkerHello {
  readonly kind: 'hello'
  readonly version: number
  readonly role: 'worker'
  /** A non-empty name for logs, the dashboard and `TaskOptions.workers`. */
  readonly name: string
  /** The host name, also matched by `TaskOptions.workers`. */
  readonly host: string
  readonly pid: number
  /** How many tasks the worker runs at once (its processes). */
  readonly procs: number
  /** Abstract resources the worker offers, such as `{ GPU: 2 }` (each ≥ 0). */
  readonly resources: Readonly<Record<string, number>>
  /** Memory the worker may use, in bytes. */
  readonly memoryBytes: number
  readonly versions: Versions
  /**
   * What the worker kept through an outage of the coordinator (it reconnects with this): a
   * restarted coordinator binds resubmitted tasks to it instead of running them again. Left out
   * on a first connection.
   */
  readonly inventory?: WorkerInventory
}

/** A reconnecting worker's tasks and values (see `WorkerHello.inventory`). */
export interface WorkerInventory {
  /**
   * Keys of the tasks it still runs or queues, and of those it finished during (or just before)
   * the outage whose report it keeps: an `assign` of one of them is answered from that run, not
   * by running it again.
   */
  readonly tasks: readonly string[]
  /** Values it holds (results, replicas, scattered data), with their sizes in bytes. */
  readonly held: readonly HeldItem[]
}

export interface HeldItem {
  readonly key: string
  /** Byte length of the encoded value. */
  readonly size: number
}

/** Sent every `heartbeatIntervalMs`; a worker that stays silent is removed. */
export interface Heartbeat {
  readonly kind: 'heartbeat'
  /** Tasks executing now. */
  readonly running: number
  /** Tasks assigned and waiting for a process. */
  readonly queued: number
  /** CPU used since the last heartbeat, in cores summed over the worker's processes (2 = two busy cores). */
  readonly cpu: number
  /** Resident memory of the daemon and its processes, in bytes. */
  readonly memoryRss: number
  /** Bytes of results the worker keeps (`keep` tasks and dependency values), in memory or spilled. */
  readonly heldBytes: number
  /** What the worker's memory manager sees (left out by workers without one). */
  readonly memory?: HeartbeatMemory
}

/** A worker's memory figures, in bytes, as its memory monitor last sampled them. */
export interface HeartbeatMemory {
  /** The budget for the daemon and its task processes together (`--memory-limit`). */
  readonly limitBytes: number
  /** Held values in the daemon's memory (managed memory, by size). */
  readonly managedBytes: number
  /** Held values spilled to disk, and how many. */
  readonly spilledBytes: number
  readonly spilledCount: number
  /** Resident memory of the daemon and its task processes together. */
  readonly rssBytes: number
  /** The daemon's memory state: `ok`, `spilling`, `paused` or `restarting`. */
  readonly state: string
}

/**
 * The worker's memory crossed its pause fraction (`paused: true`: assign it nothing, steal its
 * queue) or came back under its target (`paused: false`). Sent at once, not with a heartbeat.
 */
export interface MemoryPause {
  readonly kind: 'memoryPause'
  readonly paused: boolean
}

/**
 * Values the worker held and has lost (a spill file corrupt or missing): it holds them no more.
 * `returned` are assigned tasks that needed them and were not started; place them again.
 */
export interface DataLost {
  readonly kind: 'dataLost'
  readonly keys: readonly string[]
  readonly returned: readonly string[]
}

/** Tasks that finished. */
export interface WorkerResults {
  readonly kind: 'results'
  readonly items: readonly WorkerResultItem[]
}

export interface WorkerResultItem {
  readonly key: string
  /** The encoded result; left out when the task was assigned with `keep`. */
  readonly value?: Uint8Array
  /** Byte length of the encoded result (whether or not `value` is here). */
  readonly size: number
  /** How long the function ran, in milliseconds. */
  readonly durationMs: number
}

/** Tasks that failed. */
export interface WorkerErrors {
  readonly kind: 'errors'
  readonly items: readonly WorkerErrorItem[]
}

export interface WorkerErrorItem {
  readonly key: string
  readonly error: SerializedError
  /** How long the task ran before it failed, in milliseconds (0 if it never started). */
  readonly durationMs: number
}

/** Answers a `steal`: every key of it is in exactly one of the two lists. */
export interface StealReply {
  readonly kind: 'stealReply'
  /** Not started: the worker dropped them and will not run them. */
  readonly given: readonly string[]
  /** Started or finished: they stay, and their `results`/`errors` come (or came). */
  readonly kept: readonly string[]
}

/** Answers a `fetch`. */
export interface Data {
  readonly kind: 'data'
  readonly items: readonly DataItem[]
  /** Keys of the `fetch` the worker does not hold. */
  readonly missing?: readonly string[]
}

export interface DataItem {
  readonly key: string
  readonly value: Uint8Array
}

/**
 * The worker is stopping gracefully: assign it nothing more. It finishes what runs (reporting
 * as usual), then closes.
 */
export interface Leaving {
  readonly kind: 'leaving'
  /** Assigned tasks it will not run; the coordinator places them elsewhere. */
  readonly returned: readonly string[]
}

/**
 * Client-protocol frames of tasks running here: each task's executor (`currentTask().executor`)
 * is a client of the coordinator whose link runs through its worker. `payload` is one frame of
 * client → coordinator messages (`encodeFrame`), checked by the coordinator as a client's.
 */
export interface Nested {
  readonly kind: 'nested'
  readonly items: readonly NestedItem[]
}

export interface NestedItem {
  /** The running task whose executor sent (or is sent) the frame. */
  readonly key: string
  readonly payload: Uint8Array
}

/** These running tasks now wait for futures of their executors: their slots are free. */
export interface Seceded {
  readonly kind: 'seceded'
  readonly keys: readonly string[]
}

/** These waiting tasks run again: they take their slots back. */
export interface Rejoined {
  readonly kind: 'rejoined'
  readonly keys: readonly string[]
}

export type WorkerToCoordinator =
  | WorkerHello
  | Heartbeat
  | WorkerResults
  | WorkerErrors
  | StealReply
  | Data
  | Leaving
  | Nested
  | Seceded
  | Rejoined
  | MemoryPause
  | DataLost

// ─── coordinator → worker ────────────────────────────────────────────────────────────────

/** Accepts a worker's `hello`. */
export interface WorkerWelcome {
  readonly kind: 'welcome'
  readonly version: number
  /** The coordinator's id for this worker. */
  readonly workerId: string
  /** How often to send `heartbeat`, in milliseconds. */
  readonly heartbeatIntervalMs: number
  /** The largest frame the coordinator accepts, in bytes; senders split batches below it. */
  readonly maxPayload: number
  /**
   * Results larger than this stay in the worker's memory (reported with their size, sent on
   * `fetch`, dropped on `release`); smaller ones travel with their `results` item. Bytes;
   * default (when left out) 65536.
   */
  readonly holdResultsOverBytes?: number
}

/** Tasks to run, in addition to what the worker already has. */
export interface Assign {
  readonly kind: 'assign'
  readonly tasks: readonly AssignTask[]
}

export interface AssignTask {
  readonly key: string
  readonly fn: WireFnRef
  /** The client's encoded arguments, unchanged: `DepRef`s mark where dependencies go. */
  readonly args: Uint8Array
  /** How to resolve each `DepRef` in `args`. */
  readonly deps?: readonly AssignDep[]
  readonly opts?: TaskOptions
  /** 1 on the first run, then 2, 3… when it runs again (retry, or its worker died). */
  readonly attempt: number
  /** Keep the result on the worker (until `release`) and report only its size. Default false. */
  readonly keep?: boolean
  /**
   * A `map` chunk: `args` is `[items]`, the function runs once per item, and the result is
   * `{ v: results, e?: error of the item after the last result }`. Default false.
   */
  readonly chunk?: boolean
}

export interface AssignDep {
  /** The id inside the `DepRef` this resolves. */
  readonly id: number
  /** The dependency's task key. */
  readonly key: string
  /** Its encoded value. Left out when the worker holds `key` already. */
  readonly value?: Uint8Array
  /** Keep `value` under `key` (a replica) until `release`. Default false. */
  readonly keep?: boolean
}

/** Values to keep under their keys until `release` (data a client scattered). */
export interface Store {
  readonly kind: 'store'
  readonly items: readonly DataItem[]
}

/** Drops tasks: queued ones are forgotten, running ones killed; nothing is reported for them. */
export interface CancelKeys {
  readonly kind: 'cancel'
  readonly keys: readonly string[]
}

/** Asks the worker to give back tasks it has not started; answered by one `stealReply`. */
export interface Steal {
  readonly kind: 'steal'
  readonly keys: readonly string[]
}

/** Asks for kept values; answered by one `data`. */
export interface Fetch {
  readonly kind: 'fetch'
  readonly keys: readonly string[]
}

/** The worker may forget these kept values. */
export interface ReleaseKeys {
  readonly kind: 'release'
  readonly keys: readonly string[]
}

/** Stop now: the worker kills its processes and exits (the coordinator then closes). */
export interface Shutdown {
  readonly kind: 'shutdown'
  readonly reason: string
}

export type CoordinatorToWorker =
  | WorkerWelcome
  | Refuse
  | Assign
  | CancelKeys
  | Steal
  | Fetch
  | Store
  | ReleaseKeys
  | Shutdown
  | Nested
