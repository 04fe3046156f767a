import type {
  CoordinatorToClient,
  CoordinatorToWorker,
  HeartbeatMemory,
  Versions,
} from '@clusterpool/protocol'
import type { MessageSink } from '@clusterpool/transport'

import type { GatherQueue } from './gather-queue.js'

/** A connected client: its link and the keys of its live tasks. */
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

  constructor(id: string, name: string, remote: string, link: MessageSink<CoordinatorToClient>) {
    this.id = id
    this.name = name
    this.remote = remote
    this.link = link
  }

  key(id: number): string {
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
