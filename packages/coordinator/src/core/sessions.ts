import {
  SELF_ID,
  type CoordinatorToClient,
  type CoordinatorToWorker,
  type FnRef,
  type HeartbeatMemory,
  type Versions,
} from '@clusterpool/protocol'
import type { MessageSink } from '@clusterpool/transport'

import type { GatherQueue } from './gather-queue.js'
import type { FunctionProgress } from './progress.js'

/** What a task's own executor (a nested client) knows of the task it belongs to. */
export interface NestedParent {
  /** The running task's key; the session's id too, so its children are `<key>:<id>`. */
  readonly key: string
  /** The root task of its tree: the one a client (not a task) submitted. */
  readonly root: string
  /** The worker it runs on: the session's frames go there. */
  readonly workerId: string
  /** The task's priority: its children get it, plus `NESTED_PRIORITY_BOOST`. */
  readonly priority: number
}

/**
 * A connected client: its link and the keys of its live tasks. A running task's executor
 * (`currentTask().executor`) is one too, with a `parent`: its link runs through the task's
 * worker, and its id `SELF_ID` names the task itself.
 */
/** A task's function as the coordinator resolved it for a client, with what derives from it. */
export interface ResolvedFn {
  readonly ref: FnRef
  /** `fnKey(ref)`: the scheduler's key for its estimates. */
  readonly key: string
  /** `fnLabel(ref)`: its name in progress rows, logs and nested-task reports. */
  readonly label: string
  readonly progress: FunctionProgress
}

export class ClientSession {
  readonly id: string
  readonly name: string
  readonly remote: string
  readonly link: MessageSink<CoordinatorToClient>
  readonly connectedAt = Date.now()
  /** Keys of tasks this client submitted and has not released. */
  readonly keys = new Set<string>()
  /** Its `gather` ids waiting for an answer (made on its first gather). */
  gather: GatherQueue | undefined
  /** Hashes of the function sources this client sent, which it holds (`SourceCache`). */
  readonly sources = new Set<string>()
  /**
   * Bytes the coordinator keeps for its live tasks: arguments, and values not on a worker (its
   * inline results, scattered data not yet stored), capped by `maxClientHeldBytes`.
   */
  heldBytes = 0
  /** Set for a task's executor: the task. */
  readonly parent: NestedParent | undefined
  /**
   * The function of its last submitted task, resolved: a client submits runs of tasks of one
   * function, and each would otherwise resolve it, build its key and label and find its row.
   */
  lastFn: ResolvedFn | undefined = undefined
  /**
   * The largest frame the client takes (its hello's `maxPayload`): a value over it is not sent,
   * its future fails with `PayloadTooLargeError`. Bytes; Infinity when it did not say.
   */
  maxPayload = Infinity

  constructor(
    id: string,
    name: string,
    remote: string,
    link: MessageSink<CoordinatorToClient>,
    parent?: NestedParent,
  ) {
    this.id = id
    this.name = name
    this.remote = remote
    this.link = link
    this.parent = parent
  }

  key(id: number): string {
    if (id === SELF_ID && this.parent !== undefined) return this.parent.key
    return `${this.id}:${id}`
  }
}

/**
 * A connected worker daemon, as the coordinator sees it:
 *
 * ```
 *   running ──leaving──▶ leaving ──closed──▶ gone
 *      └───────────── closed / heartbeat timeout ──▶ gone
 * ```
 */
export type WorkerSessionState = 'running' | 'leaving' | 'gone'

export class WorkerSession {
  state: WorkerSessionState = 'running'
  readonly id: string
  readonly name: string
  readonly host: string
  readonly pid: number
  readonly procs: number
  readonly resources: Readonly<Record<string, number>>
  readonly memoryBytes: number
  readonly versions: Versions
  readonly remote: string
  readonly link: MessageSink<CoordinatorToWorker> & { terminate?(): void }
  readonly connectedAt = Date.now()
  /** Function sources this worker has received on this connection, by hash. */
  readonly sentSources = new Set<string>()
  /** Reports it sent on tasks it does not hold (see `WorkerRole`). */
  violations = 0
  lastHeartbeat = Date.now()
  cpu = 0
  memoryRss = 0
  heldBytes = 0
  /** Its memory manager's figures from its last heartbeat; undefined if it sends none. */
  memory: HeartbeatMemory | undefined
  /** It said its memory is over its pause fraction (`memoryPause`), and not yet back. */
  memoryPaused = false
  running = 0
  queued = 0

  constructor(
    init: Pick<
      WorkerSession,
      | 'id'
      | 'name'
      | 'host'
      | 'pid'
      | 'procs'
      | 'resources'
      | 'memoryBytes'
      | 'versions'
      | 'remote'
      | 'link'
    >,
  ) {
    this.id = init.id
    this.name = init.name
    this.host = init.host
    this.pid = init.pid
    this.procs = init.procs
    this.resources = init.resources
    this.memoryBytes = init.memoryBytes
    this.versions = init.versions
    this.remote = init.remote
    this.link = init.link
  }
}
