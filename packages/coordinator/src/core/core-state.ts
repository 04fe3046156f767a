import { fnLabel, SourceCache } from '@clusterpool/protocol'
import type { Logger } from 'pino'

import type { CoordinatorMetrics } from '../http/metrics.js'
import type { Scheduler } from '../scheduler/scheduler.js'
import type { ResolvedCoordinatorOptions } from '../server/options.js'
import { Adoption } from './adoption.js'
import type { ClientTask } from './client-task.js'
import { DataRelay } from './data-relay.js'
import { NestedTasks } from './nested-tasks.js'
import { CoreEvents } from './events.js'
import { TaskStats } from './progress.js'
import type { ClientSession, WorkerSession } from './sessions.js'

/**
 * What the roles of the coordinator core share: the sessions, the client tasks, the scheduler,
 * the relay of values between workers, the counters and events, and the log. It holds state and
 * no rules; the roles (`ClientRole`, `WorkerRole`, `Dispatcher`) change it.
 */
export class CoreState {
  readonly options: ResolvedCoordinatorOptions
  readonly log: Logger
  readonly metrics: CoordinatorMetrics | undefined
  readonly scheduler: Scheduler
  readonly clients = new Map<string, ClientSession>()
  readonly workers = new Map<string, WorkerSession>()
  /** Every task and scattered value a client has not released (or the scheduler still needs). */
  readonly tasks = new Map<string, ClientTask>()
  /**
   * Function sources by verified hash, held by live tasks and the clients that sent them;
   * idle ones are kept LRU within `SOURCE_CACHE_DEFAULTS` (16 MiB, 1024 sources).
   */
  readonly sources = new SourceCache()
  readonly relay: DataRelay
  readonly stats: TaskStats
  readonly events = new CoreEvents()
  /** Tasks that submit tasks: their executors' sessions, the wait-for graph, descendants. */
  readonly nested: NestedTasks
  /** Inventories, resubmissions and claims after a coordinator restart. */
  readonly adoption: Adoption
  /**
   * Suffix of this coordinator's client ids, unique to its start (empty in tests): a client of
   * a later start never gets the id of a client that will resume.
   */
  readonly epoch: string

  constructor(
    options: ResolvedCoordinatorOptions,
    log: Logger,
    metrics: CoordinatorMetrics | undefined,
    scheduler: Scheduler,
    epoch = '',
  ) {
    this.options = options
    this.epoch = epoch
    this.adoption = new Adoption(this, performance.now())
    this.log = log
    this.metrics = metrics
    this.scheduler = scheduler
    this.stats = new TaskStats(metrics)
    this.nested = new NestedTasks(this)
    this.relay = new DataRelay(
      (workerId, key) => this.workers.get(workerId)?.link.pushItem('fetch', 'keys', key),
      (bytes) => metrics?.relayedBytes.inc(bytes),
    )
  }

  /** Processes over the running workers. */
  get procs(): number {
    let n = 0
    for (const w of this.workers.values()) if (w.state === 'running') n += w.procs
    return n
  }

  /** A task as its client names it: the future's key. */
  label(key: string): string {
    const task = this.tasks.get(key)
    return task ? `${fnLabel(task.fn)}-${task.id}` : key
  }
}
