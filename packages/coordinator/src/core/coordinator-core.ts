import type {
  ClientHello,
  ClientToCoordinator,
  CoordinatorToClient,
  WorkerHello,
  WorkerToCoordinator,
} from '@clusterpool/protocol'
import type { MessageSink } from '@clusterpool/transport'
import type { Logger } from 'pino'

import type { CoordinatorMetrics } from '../http/metrics.js'
import type { SchedulerOptions } from '../scheduler/options.js'
import { Scheduler } from '../scheduler/scheduler.js'
import type { ResolvedCoordinatorOptions } from '../server/options.js'
import { ClientRole } from './client-role.js'
import { CoreState } from './core-state.js'
import { Dispatcher } from './dispatcher.js'
import type { CoreEventSource } from './events.js'
import type { FunctionProgress, Totals } from './progress.js'
import { RelayedAssigns } from './relayed-assigns.js'
import type { ClientSession, WorkerSession } from './sessions.js'
import { buildStatus, type ClusterStatus } from './status.js'
import type { Throughput } from './throughput.js'
import { WorkerRole } from './worker-role.js'

/**
 * A tick later than this after the one before means this process itself stalled: heartbeats
 * are then judged on the next tick, once the sockets have been read. Milliseconds.
 */
const STALL_MS = 1000

/** The clock the scheduler's batches end on. */
const batchEnd = (): number => performance.now()

/**
 * The coordinator's brain, free of sockets: client and worker sessions come in through links
 * (WebSocket connections or in-process loopbacks), their messages drive the pure `Scheduler`,
 * and the scheduler's decisions become messages to workers and clients. Like Dask's worker
 * state machine, events go in and decisions come out; this class only wires the parts:
 *
 * - `ClientRole`: what clients send (submit, cancel, release, gather, scatter);
 * - `WorkerRole`: what workers send (results, errors, steal replies, data, leaving);
 * - `Dispatcher`: the scheduler's decisions turned into messages, with `RelayedAssigns` for
 *   the tasks whose inputs must first be relayed from other workers;
 * - `ClientTask`: the client's view of each task, an explicit state machine;
 * - `TaskStats`: progress, totals and throughput; `CoreEvents`: what live views observe.
 *
 * Every entry point handles its input, then applies the decisions it caused (`#apply`) and
 * emits `change`.
 *
 * Data: a small result (up to `holdResultsOverBytes`) travels with its report; the coordinator
 * pushes it to the owning client at once and hands it to dependents inside `assign`. A larger
 * result, like data a client scatters, stays in the memory of its worker: the client hears only
 * its size, dependents preferably run on that worker, and the value moves (relayed through the
 * coordinator, see `DataRelay`) only when a client awaits it or a dependent runs elsewhere — the
 * receiving worker then keeps a replica.
 */
export class CoordinatorCore {
  readonly scheduler: Scheduler
  readonly startedAt = Date.now()
  /** `change` after every handled input, `taskEnd` per task end (for the dashboard). */
  readonly events: CoreEventSource
  /** Tasks per function label: pending, running, done, erred. */
  readonly progress: ReadonlyMap<string, FunctionProgress>
  readonly totals: Readonly<Totals>
  readonly throughput: Throughput
  readonly #s: CoreState
  readonly #clients: ClientRole
  readonly #workers: WorkerRole
  readonly #dispatcher: Dispatcher
  #timer: NodeJS.Timeout | undefined
  /** When `tick` last ran (Date.now() ms), to tell a late tick from a timely one. */
  #lastTick = Date.now()

  constructor(
    options: ResolvedCoordinatorOptions,
    log: Logger,
    metrics?: CoordinatorMetrics,
    scheduler?: SchedulerOptions,
    epoch = '',
  ) {
    this.scheduler = new Scheduler({ allowedFailures: options.allowedFailures, ...scheduler })
    const s = new CoreState(options, log, metrics, this.scheduler, epoch)
    const assigns = new RelayedAssigns(s)
    this.#s = s
    this.#clients = new ClientRole(s, assigns)
    this.#workers = new WorkerRole(s, assigns, this.#clients)
    this.#dispatcher = new Dispatcher(s, assigns)
    this.events = s.events
    this.progress = s.stats.progress
    this.totals = s.stats.totals
    this.throughput = s.stats.throughput
  }

  /** Starts the periodic `tick`: work stealing, estimates, heartbeat checks. */
  start(): void {
    this.#timer = setInterval(
      () => this.#safely('the tick', () => this.tick()),
      this.#s.options.tickIntervalMs,
    )
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    for (const w of this.#s.workers.values()) w.link.close(4000, 'coordinator shutting down')
    for (const c of this.#s.clients.values()) c.link.close(4000, 'coordinator shutting down')
  }

  get workerCount(): number {
    return this.#s.workers.size
  }

  get procs(): number {
    return this.#s.procs
  }

  /** Values relayed so far (to clients that awaited them, and to workers as inputs), and bytes. */
  get transfers(): { values: number; bytes: number } {
    return { values: this.#s.relay.values, bytes: this.#s.relay.bytes }
  }

  /** The function sources kept: how many, their bytes, and how many of them are idle. */
  get sources(): { size: number; bytes: number; idleSize: number } {
    const c = this.#s.sources
    return { size: c.size, bytes: c.bytes, idleSize: c.idleSize }
  }

  /** After a restart: inventory entries unclaimed, and keys parked waiting for an inventory. */
  get adoption(): { unclaimedTasks: number; unclaimedHeld: number; parked: number } {
    const a = this.#s.adoption
    return { unclaimedTasks: a.unclaimed.tasks, unclaimedHeld: a.unclaimed.held, parked: a.parked }
  }

  get clientCount(): number {
    return this.#s.clients.size
  }

  status(url?: string): ClusterStatus {
    return buildStatus(this, [...this.#s.workers.values()], url)
  }

  // ─── clients ────────────────────────────────────────────────────────────────────────────

  addClient(
    link: MessageSink<CoordinatorToClient>,
    hello: ClientHello,
    remote: string,
  ): ClientSession {
    const session = this.#clients.join(link, hello, remote)
    // A resume may have replaced a session (its tasks released) and claimed values back.
    this.#apply()
    return session
  }

  onClientMessages(client: ClientSession, messages: readonly ClientToCoordinator[]): void {
    const t0 = performance.now()
    // One frame, one scheduling pass (see `Scheduler.batch`).
    if (this.scheduler.batch(() => this.#clients.handle(client, messages), batchEnd)) this.#apply()
    this.#observeStep('client', t0)
  }

  onClientClosed(client: ClientSession): void {
    if (this.#clients.closed(client)) this.#apply()
  }

  // ─── workers ────────────────────────────────────────────────────────────────────────────

  addWorker(link: WorkerSession['link'], hello: WorkerHello, remote: string): WorkerSession {
    const session = this.#workers.join(link, hello, remote)
    this.#broadcastSize()
    this.#apply()
    return session
  }

  onWorkerMessages(worker: WorkerSession, messages: readonly WorkerToCoordinator[]): void {
    const t0 = performance.now()
    const ok = this.scheduler.batch(() => this.#workers.handle(worker, messages), batchEnd)
    // Closed for its violations: it leaves now, not when its socket's close event comes.
    if (worker.state === 'gone') this.onWorkerClosed(worker)
    else if (ok) this.#apply()
    this.#observeStep('worker', t0)
  }

  onWorkerClosed(worker: WorkerSession): void {
    if (!this.#workers.closed(worker)) return
    this.#apply()
    // Fetches it did not answer: their waiters look elsewhere, or requeue what needed them.
    this.#s.relay.workerGone(worker.id)
    this.#s.log.info(
      { worker: worker.id, name: worker.name },
      'worker left; its unfinished tasks are rescheduled',
    )
    this.#broadcastSize()
    this.#apply()
  }

  #broadcastSize(): void {
    const procs = this.#s.procs
    const workers = this.#s.workers.size
    for (const c of this.#s.clients.values()) c.link.send({ kind: 'cluster', workers, procs })
  }

  // ─── the periodic step and the decisions ────────────────────────────────────────────────

  /** The periodic step (`start` runs it every `tickIntervalMs`): heartbeats, then the scheduler's tick. */
  tick(): void {
    const t0 = performance.now()
    const now = Date.now()
    // After a stall of this process (a long synchronous stretch: a million tasks submitted in
    // one loop by an in-process client), timers run before the socket reads that were waiting:
    // the workers' heartbeats are there, unread. Judge silence only on a tick that came on time.
    const stalled = now - this.#lastTick > STALL_MS
    this.#lastTick = now
    if (!stalled) this.#dropSilentWorkers(now)
    this.#s.adoption.sweep(performance.now())
    this.scheduler.tick(performance.now())
    this.#apply()
    this.#observeStep('tick', t0)
  }

  /** One input's handling time, since `t0` (`performance.now()`), into `schedulerStep`. */
  #observeStep(input: 'client' | 'worker' | 'tick', t0: number): void {
    this.#s.metrics?.steps[input].observe((performance.now() - t0) / 1000)
  }

  #dropSilentWorkers(now: number): void {
    for (const w of this.#s.workers.values()) {
      if (now - w.lastHeartbeat > this.#s.options.workerTimeoutMs) {
        this.#s.log.warn(
          { worker: w.id, name: w.name, silentMs: now - w.lastHeartbeat },
          'worker missed its heartbeats; removing it',
        )
        w.link.terminate?.()
        w.link.close(4408, 'missed heartbeats')
        this.onWorkerClosed(w)
      }
    }
  }

  /**
   * Runs `body` from a timer: an exception there would end the process and every peer's work,
   * so it is logged (it is a bug) and the coordinator goes on.
   */
  #safely(what: string, body: () => void): void {
    try {
      body()
    } catch (error) {
      this.#s.log.error({ err: error }, `internal error in ${what}; the coordinator goes on`)
    }
  }

  /** Applies the scheduler's decisions until it has none, then tells observers. */
  #apply(): void {
    const stats = this.#s.stats
    const finished = stats.totals.finished
    // Handling a decision may feed the scheduler again (a relayed input that cannot come).
    for (
      let ds = this.scheduler.takeDecisions();
      ds.length > 0;
      ds = this.scheduler.takeDecisions()
    )
      for (const d of ds) {
        // One decision that fails (a bug) must not drop the rest of the batch for everyone.
        try {
          this.#dispatcher.decide(d)
        } catch (error) {
          this.#s.log.error({ err: error, decision: d.type }, 'internal error applying a decision')
        }
      }
    // Counted once per batch of decisions, not per task (`memory` counts `totals.finished`).
    stats.batchFinished(finished)
    this.#s.events.emitChange()
  }
}
