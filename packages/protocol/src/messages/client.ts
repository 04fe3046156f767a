/**
 * Messages between a client and the coordinator.
 *
 * Ids are the client's own task ids: small integers it picks, unique on its connection. The
 * coordinator names the task `${clientId}:${id}` towards workers. A connection goes:
 *
 *   client                         coordinator
 *     hello ───────────────────────▶            (nothing else until the answer)
 *           ◀─────────────────────── welcome | refuse (then close)
 *     submit, cancel, release, gather, scatter, ping ─▶
 *           ◀─ running, results, errors, cancelled, cluster, pong
 *
 * Closing the connection releases every task the client had. A client that reconnects with
 * `resume` in its hello keeps its id, sends its unfinished tasks again under the same ids, and
 * names the held values it still refers to.
 */
import type { SerializedError } from '../errors/serialize.js'
import type { TaskOptions } from '../task/options.js'
import type { Refuse, Versions, WireFnRef } from './common.js'

// ─── client → coordinator ────────────────────────────────────────────────────────────────

/** First message of a client connection. */
export interface ClientHello {
  readonly kind: 'hello'
  readonly version: number
  readonly role: 'client'
  /** A name for logs and the dashboard. */
  readonly name?: string
  /**
   * The largest frame this client takes, in bytes (its WebSocket's limit): a value bigger than
   * that fails its future with `PayloadTooLargeError` instead of being sent, and lists are sent
   * in frames below it. Default (left out): the coordinator's own frame size.
   */
  readonly maxPayload?: number
  /**
   * Reconnecting after an outage (a coordinator restart): take back `clientId`, proven by the
   * `resumeToken` an earlier `welcome` gave. Left out on a first connection.
   */
  readonly resume?: ClientResume
}

/** A reconnecting client's claim to its earlier id and to its values held on workers. */
export interface ClientResume {
  /** The `clientId` of the earlier session: task keys are `${clientId}:${id}` again. */
  readonly clientId: string
  /** The earlier welcome's `resumeToken`; a claim without the right one is refused (`CP_ERR_AUTH`). */
  readonly resumeToken: string
  /**
   * Ids of finished tasks and scattered values whose value stays on a worker and that the client
   * still refers to: known again from the workers' inventories, gatherable and usable as inputs.
   */
  readonly held: readonly number[]
  /**
   * Workers the client last knew connected (its last `cluster` or `welcome`): a restarted
   * coordinator holds this client's tasks until that many workers are back (or its grace period
   * ends), so that none runs again on a new worker while an old one still has it. Default 0.
   */
  readonly workers?: number
}

/** Submits tasks; answered by `running`, then `results` or `errors`, per task. */
export interface Submit {
  readonly kind: 'submit'
  readonly tasks: readonly SubmitTask[]
}

export interface SubmitTask {
  /** The client's id for the task (non-negative integer, unique on the connection). */
  readonly id: number
  readonly fn: WireFnRef
  /** The arguments as one msgpack array (`encodeValue`), with `DepRef`s where futures were. */
  readonly args: Uint8Array
  /** Ids of the tasks or scattered values this one needs, each a `DepRef` somewhere in `args`. */
  readonly deps?: readonly number[]
  readonly opts?: TaskOptions
  /**
   * Keep the result on the cluster (`results` then reports the task done without its value)
   * until the client `gather`s it or `release`s it. Default false: push the value.
   */
  readonly keep?: boolean
  /**
   * A `map` chunk: `args` is `[items]`, the function runs once per item, and the result is
   * `{ v: results, e?: error of the item after the last result }`. Default false.
   */
  readonly chunk?: boolean
  /**
   * Sent again after a reconnect, and the earlier coordinator had said it runs (`running`). A
   * restarted coordinator that does not know how many workers the client knew (`resume.workers`
   * left out) waits for a worker's inventory to name such a task before it runs it anywhere,
   * for up to its `resumeGraceMs`. Default false.
   */
  readonly ran?: boolean
}

/** Cancels tasks that have not started; `cancelled` lists those that were. */
export interface Cancel {
  readonly kind: 'cancel'
  readonly ids: readonly number[]
}

/** The client dropped these futures: the coordinator may forget them and their results. */
export interface Release {
  readonly kind: 'release'
  readonly ids: readonly number[]
}

/** Asks for the values of finished tasks kept on the cluster; answered by `results`/`errors`. */
export interface Gather {
  readonly kind: 'gather'
  readonly ids: readonly number[]
}

/**
 * Puts values on the cluster under client ids, for tasks to depend on. Each is answered like a
 * finished task: a `results` item with `held` (the value stays on a worker), or an `errors` item.
 */
export interface Scatter {
  readonly kind: 'scatter'
  readonly items: readonly ScatterItem[]
}

export interface ScatterItem {
  readonly id: number
  /** One value encoded with `encodeValue`. */
  readonly value: Uint8Array
  /** Names, hosts or ids of the workers it may go to. Default: any. */
  readonly workers?: readonly string[]
}

/** Asks for a `pong` with the same `seq` (round-trip measurement). */
export interface Ping {
  readonly kind: 'ping'
  readonly seq: number
}

/**
 * From a task's own executor only (`currentTask().executor`): the task now awaits these futures
 * of its executor. The coordinator adds the wait to its wait-for graph; one that would close a
 * cycle is answered with an `errors` item (`DeadlockError`) for that id, and the task's wait
 * fails at once. From any other client it is a protocol error.
 */
export interface Await {
  readonly kind: 'await'
  readonly ids: readonly number[]
}

export type ClientToCoordinator =
  ClientHello | Submit | Cancel | Release | Gather | Scatter | Ping | Await

// ─── coordinator → client ────────────────────────────────────────────────────────────────

/** Accepts a client's `hello`. */
export interface ClientWelcome {
  readonly kind: 'welcome'
  readonly version: number
  /** The coordinator's name for this client, the prefix of its task keys. */
  readonly clientId: string
  /** The largest frame the coordinator accepts, in bytes; senders split batches below it. */
  readonly maxPayload: number
  readonly coordinator: CoordinatorInfo
  /**
   * Proof of `clientId` for a later `hello` with `resume` (an HMAC of the id under the client
   * token, so a restarted coordinator with the same token accepts it). Left out by coordinators
   * that cannot resume this client (an in-process link).
   */
  readonly resumeToken?: string
}

export interface CoordinatorInfo {
  readonly name: string
  readonly versions: Versions
  /** Workers connected now. */
  readonly workers: number
  /** Processes (task slots) over all connected workers. */
  readonly procs: number
}

/** Tasks handed to a worker (the future is now `running()`). */
export interface Running {
  readonly kind: 'running'
  readonly ids: readonly number[]
}

/** Tasks that finished, with their values. */
export interface Results {
  readonly kind: 'results'
  readonly items: readonly ResultItem[]
}

export interface ResultItem {
  readonly id: number
  /** The encoded result; left out when it stays on a worker (`held`). */
  readonly value?: Uint8Array
  /**
   * The task finished, but its result (this many bytes) stays in a worker's memory: `gather`
   * the id to get it. Left out when `value` is given.
   */
  readonly held?: number
}

/** Tasks that failed (their function threw, they timed out, a dependency failed…). */
export interface Errors {
  readonly kind: 'errors'
  readonly items: readonly ErrorItem[]
}

export interface ErrorItem {
  readonly id: number
  readonly error: SerializedError
}

/**
 * Tasks cancelled by a `cancel`. Ids of that `cancel` missing here had already started: their
 * `results` or `errors` still come.
 */
export interface Cancelled {
  readonly kind: 'cancelled'
  readonly ids: readonly number[]
}

/** The cluster changed size (a worker joined or left). */
export interface ClusterSize {
  readonly kind: 'cluster'
  readonly workers: number
  readonly procs: number
}

/** Answers a `ping`. */
export interface Pong {
  readonly kind: 'pong'
  readonly seq: number
}

export type CoordinatorToClient =
  ClientWelcome | Refuse | Running | Results | Errors | Cancelled | ClusterSize | Pong
