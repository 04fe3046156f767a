import { hostname, totalmem } from 'node:os'

import {
  AuthError,
  InvalidOptionError,
  PROTOCOL_VERSION,
  VersionMismatchError,
  type CoordinatorToWorker,
  type SerializedError,
  type WorkerHello,
  type WorkerToCoordinator,
  type WorkerWelcome,
} from '@clusterpool/protocol'
import { TaskPool } from '@clusterpool/pool'
import { CLUSTERPOOL_VERSION, openSession, type Connection } from '@clusterpool/transport'
import { destination, pino, type Logger } from 'pino'

import { CpuMeter, rssBytes } from './cpu.js'
import {
  resolveWorkerDaemonOptions,
  type ResolvedWorkerDaemonOptions,
  type WorkerDaemonOptions,
} from './options.js'
import type { DaemonState } from './states.js'
import type { WorkerEvent, WorkerInstruction } from './worker-events.js'
import { WorkerState } from './worker-state.js'

type CoordinatorConnection = Connection<'coordinator->worker', WorkerToCoordinator>

/** A worker daemon's life; drawn, with its transitions, in `states.ts`. */
export type WorkerDaemonState = DaemonState

/**
 * Runs tasks from a coordinator on a local process pool.
 *
 * The I/O shell around `WorkerState`: it turns the coordinator's messages, the pool's reports
 * and the link's changes into events, feeds them to the state one at a time, and carries out
 * the instructions that come back, in order, before the next event. An instruction may make
 * the pool report at once (aborting a task given back to the pool's queue fails it on the
 * spot); that report is handled, and its instructions carried out, right there, as the old
 * inline code did, so messages leave in the same order.
 */
export class WorkerDaemon {
  readonly options: ResolvedWorkerDaemonOptions
  readonly log: Logger
  readonly #worker = new WorkerState()
  #stimulus = 0
  #pool: TaskPool
  #connection: CoordinatorConnection | undefined
  #workerId: string | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #stopped: Promise<number>
  #resolveStopped!: (code: number) => void
  #cpu = new CpuMeter()

  constructor(options: WorkerDaemonOptions, log?: Logger) {
    this.options = resolveWorkerDaemonOptions(options)
    this.log = log ?? pino({ name: 'clusterpool-worker' }, destination(2))
    this.#pool = this.#makePool()
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve))
  }

  get state(): WorkerDaemonState {
    return this.#worker.state
  }

  /** The coordinator's id for this worker while connected. */
  get workerId(): string | undefined {
    return this.#workerId
  }

  /**
   * Connects and serves until stopped. Resolves with the exit code: 0 after a drain, 1 when the
   * coordinator refused this worker (wrong token, other protocol version).
   */
  async run(): Promise<number> {
    void this.#connectLoop()
    return this.#stopped
  }

  /** Stops taking tasks, hands back those not started, finishes the running ones, then stops. */
  async drain(): Promise<void> {
    const state = this.#worker.state
    if (state === 'draining' || state === 'stopped' || state === 'failed')
      return this.#stopped.then(() => {})
    this.log.info(
      { running: this.#worker.taskCount },
      'draining: finishing running tasks, handing back queued ones',
    )
    this.#feed({ kind: 'drain', stimulusId: ++this.#stimulus })
    const deadline = Date.now() + this.options.drainTimeoutMs
    while (this.#worker.taskCount > 0 && Date.now() < deadline) await sleep(20)
    await this.#pool.close({ force: this.#worker.taskCount > 0 })
    this.#feed({ kind: 'drained', stimulusId: ++this.#stimulus })
  }

  /**
   * Applies one event and carries out what it asks for. A pool report caused by an instruction
   * is fed, and carried out, before the next instruction, with a list of its own.
   */
  #feed(event: WorkerEvent): void {
    const todo = this.#worker.handle(event)
    for (let i = 0; i < todo.length; i++) this.#execute(todo[i]!)
  }

  #execute(i: WorkerInstruction): void {
    switch (i.kind) {
      case 'run-task':
        this.#pool.submit(i)
        return
      case 'drop-task':
        // WorkerState drops only tasks the pool has not started, which the pool can always
        // take back; if it cannot, the two disagree, and the task is stopped rather than run.
        if (!this.#pool.cancel(i.id)) {
          this.log.error({ id: i.id }, 'the pool had started a task the daemon thought queued')
          this.#pool.abort(i.id)
        }
        return
      case 'abort-task':
        this.#pool.abort(i.id)
        return
      case 'send':
        this.#connection?.send(i.message)
        return
      case 'send-result':
        this.#connection?.pushItem('results', 'items', i.item)
        return
      case 'send-error':
        this.#connection?.pushItem('errors', 'items', i.item)
        return
      case 'flush':
        this.#connection?.flush()
        return
      case 'reconnect':
        void this.#connectLoop()
        return
      case 'stop':
        this.#stop(i.code)
        return
    }
  }

  #stop(code: number): void {
    clearInterval(this.#heartbeat)
    this.#connection?.close(1000, 'worker stopping')
    void this.#pool.close({ force: true }).finally(() => this.#resolveStopped(code))
  }

  async #connectLoop(): Promise<void> {
    let delay = this.options.reconnectInitialDelayMs
    while (this.#wantsConnection()) {
      try {
        await this.#connect()
        return
      } catch (error) {
        if (
          error instanceof AuthError ||
          error instanceof VersionMismatchError ||
          error instanceof InvalidOptionError
        ) {
          this.log.fatal(`the coordinator refused this worker: ${error.message}`)
          this.#feed({ kind: 'refused', stimulusId: ++this.#stimulus })
          return
        }
        // Jittered, so that workers dropped together do not all knock at once on a restart.
        const wait = Math.round(delay * (0.5 + Math.random() / 2))
        this.log.warn({ retryInMs: wait }, (error as Error).message)
        await sleep(wait)
        delay = Math.min(delay * 2, this.options.reconnectMaxDelayMs)
      }
    }
  }

  #wantsConnection(): boolean {
    const state = this.#worker.state
    return state === 'connecting' || state === 'reconnecting'
  }

  async #connect(): Promise<void> {
    const inventory = this.#worker.inventory()
    const hello: WorkerHello = {
      kind: 'hello',
      version: PROTOCOL_VERSION,
      role: 'worker',
      name: this.options.name,
      host: hostname(),
      pid: process.pid,
      procs: this.options.procs,
      resources: this.options.resources,
      memoryBytes: this.options.memoryLimitBytes ?? totalmem(),
      versions: { node: process.versions.node, clusterpool: CLUSTERPOOL_VERSION },
      ...(inventory === undefined ? {} : { inventory }),
    }
    const { connection, welcome } = await openSession<
      'coordinator->worker',
      WorkerToCoordinator,
      WorkerWelcome
    >(this.options.coordinatorUrl, 'coordinator->worker', hello, {
      ...(this.options.token === undefined ? {} : { token: this.options.token }),
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
    })
    if (!this.#wantsConnection()) {
      connection.close(1000, 'worker stopping')
      return
    }
    this.#connection = connection
    this.#workerId = welcome.workerId
    this.#feed({
      kind: 'connected',
      stimulusId: ++this.#stimulus,
      holdResultsOverBytes: welcome.holdResultsOverBytes,
    })
    connection.setHandlers({
      onMessages: (messages) => {
        for (const m of messages) this.#onMessage(m)
      },
      onClose: (code, reason) => this.#onConnectionLost(code, reason),
      onProtocolError: (error) =>
        this.log.error({ err: error }, 'the coordinator sent a bad frame'),
    })
    // A coordinator that stops answering (a partition leaves the TCP connection open but dead)
    // is noticed by pings; the connection is then dropped and made anew.
    connection.keepAlive(
      welcome.heartbeatIntervalMs,
      Math.max(5000, 5 * welcome.heartbeatIntervalMs),
      (silentMs) => this.log.warn({ silentMs }, 'the coordinator stopped answering pings'),
    )
    this.#heartbeat = setInterval(() => this.#sendHeartbeat(), welcome.heartbeatIntervalMs)
    this.#heartbeat.unref()
    this.log.info(
      {
        workerId: welcome.workerId,
        procs: this.options.procs,
        coordinator: this.options.coordinatorUrl,
        ...(inventory === undefined
          ? {}
          : { inventoryTasks: inventory.tasks.length, inventoryHeld: inventory.held.length }),
      },
      inventory === undefined
        ? 'registered with the coordinator'
        : 're-registered with the coordinator, with an inventory of what it kept',
    )
  }

  #onConnectionLost(code: number, reason: string): void {
    clearInterval(this.#heartbeat)
    this.#connection = undefined
    if (this.#worker.state === 'running')
      this.log.warn(
        { code, reason, tasks: this.#worker.taskCount, heldBytes: this.#worker.heldBytes },
        'lost the coordinator; keeping its tasks and values, and reconnecting',
      )
    this.#feed({ kind: 'coordinator-lost', stimulusId: ++this.#stimulus })
  }

  #onMessage(m: CoordinatorToWorker): void {
    const stimulusId = ++this.#stimulus
    switch (m.kind) {
      case 'assign':
        this.#feed({ kind: 'assign', stimulusId, tasks: m.tasks })
        return
      case 'cancel':
      case 'steal':
      case 'fetch':
      case 'release':
        this.#feed({ kind: m.kind, stimulusId, keys: m.keys })
        return
      case 'store':
        this.#feed({ kind: 'store', stimulusId, items: m.items })
        return
      case 'shutdown':
        this.log.warn({ reason: m.reason }, 'the coordinator asked this worker to shut down')
        this.#feed({ kind: 'shutdown', stimulusId })
        return
      case 'welcome':
      case 'refuse':
        this.log.warn({ kind: m.kind }, 'unexpected message after the handshake; ignored')
        return
    }
  }

  #makePool(): TaskPool {
    const perProcessMb =
      this.options.memoryLimitBytes === undefined
        ? undefined
        : Math.max(64, Math.floor(this.options.memoryLimitBytes / this.options.procs / 2 ** 20))
    return new TaskPool(
      {
        kind: 'process',
        maxWorkers: this.options.procs,
        ...(perProcessMb === undefined ? {} : { memoryLimitMb: perProcessMb }),
      },
      {
        onStart: (id: number) =>
          this.#feed({ kind: 'task-started', stimulusId: ++this.#stimulus, id }),
        onResult: (id: number, value: Uint8Array, durationMs: number) =>
          this.#feed({
            kind: 'task-finished',
            stimulusId: ++this.#stimulus,
            id,
            value,
            durationMs,
          }),
        onError: (id: number, error: SerializedError, durationMs: number) =>
          this.#feed({ kind: 'task-erred', stimulusId: ++this.#stimulus, id, error, durationMs }),
      },
    )
  }

  #sendHeartbeat(): void {
    const pids = [process.pid, ...this.#pool.childPids()]
    const cpu = this.#cpu.sample(pids)
    const stats = this.#pool.stats
    this.#connection?.send({
      kind: 'heartbeat',
      running: stats.inFlight,
      queued: stats.queued,
      cpu,
      memoryRss: Math.max(process.memoryUsage.rss(), rssBytes(pids)),
      heldBytes: this.#worker.heldBytes,
    })
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
