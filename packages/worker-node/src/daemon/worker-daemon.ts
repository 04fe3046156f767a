import { hostname } from 'node:os'

import {
  AuthError,
  InvalidOptionError,
  PayloadTooLargeError,
  ProtocolError,
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

import { CpuMeter } from './cpu.js'
import { MemoryInbox } from './memory/memory-inbox.js'
import { MemoryManager } from './memory/memory-manager.js'
import {
  resolveWorkerDaemonOptions,
  type ResolvedWorkerDaemonOptions,
  type WorkerDaemonOptions,
} from './options.js'
import type { DaemonState } from './states.js'
import type { RunTask, WorkerEvent, WorkerInstruction } from './worker-events.js'
import { WarmUp } from './warm-up.js'
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
  /** How deep `#feed` is nested (an instruction's pool report is fed before the next one). */
  #feedDepth = 0
  /** `#feed`'s instruction lists, one per depth. */
  readonly #todo: WorkerInstruction[][] = []
  #pool: TaskPool
  #connection: CoordinatorConnection | undefined
  #workerId: string | undefined
  #heartbeat: NodeJS.Timeout | undefined
  /** When the current connection was welcomed (`performance.now()`). */
  #welcomedAt = -Infinity
  /** The wait before the next connect, when connections keep dropping soon after welcome. */
  #flapDelayMs = 0
  /** Tasks assigned while paused for memory, by pool id: submitted when it resumes. */
  readonly #deferred = new Map<number, RunTask>()
  #stopped: Promise<number>
  #resolveStopped!: (code: number) => void
  #cpu = new CpuMeter()
  readonly #memory: MemoryManager
  readonly #inbox: MemoryInbox
  /** The task processes' start-up no-ops (`options.warmUp`). */
  readonly #warmUp: WarmUp

  constructor(options: WorkerDaemonOptions, log?: Logger) {
    this.options = resolveWorkerDaemonOptions(options)
    this.log = log ?? pino({ name: 'clusterpool-worker' }, destination(2))
    this.#warmUp = new WarmUp(this.log)
    this.#memory = new MemoryManager(this.options.memory, this.options.procs, {
      held: this.#worker.held,
      childPids: () => this.#pool.childPids(),
      restartChildren: (reason) => this.#pool.restartChildren(reason),
      onPause: (paused) => this.#onMemoryPause(paused),
      log: this.log,
    })
    this.#inbox = new MemoryInbox(this.#memory, {
      deliver: (m) => this.#onMessage(m),
      send: (m) => {
        this.#connection?.send(m)
        this.#connection?.flush()
      },
      room: async () => {
        while (
          this.#memory.paused ||
          this.#deferred.size > 0 ||
          this.#pool.stats.inFlight + this.#pool.stats.queued >= this.options.procs
        )
          await sleep(10)
      },
      drained: () =>
        new Promise<void>((resolve) => {
          const c = this.#connection
          if (c === undefined || !c.congested) resolve()
          else c.onceDrained(resolve)
        }),
    })
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
    this.#memory.start()
    const warm =
      this.options.warmUp === 'lazy'
        ? undefined
        : this.#warmUp.run(this.options.procs, (task) => this.#pool.submit(task))
    if (this.options.warmUp === 'before-registering') await warm
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
    // One instruction list per nesting depth, reused: most events are a task's start or end,
    // thousands a second, and a new list for each was garbage the moment it was carried out.
    const depth = this.#feedDepth++
    const todo = (this.#todo[depth] ??= [])
    try {
      this.#worker.handle(event, todo)
      for (let i = 0; i < todo.length; i++) this.#execute(todo[i]!)
    } finally {
      todo.length = 0
      this.#feedDepth--
    }
  }

  #execute(i: WorkerInstruction): void {
    switch (i.kind) {
      case 'run-task':
        // Paused for memory: new tasks wait here, not in the pool, until it resumes.
        if (this.#memory.paused) this.#deferred.set(i.id, i)
        else this.#pool.submit(i)
        return
      case 'drop-task':
        if (this.#deferred.delete(i.id)) return
        // WorkerState drops only tasks the pool has not started, which the pool can always
        // take back; if it cannot, the two disagree, and the task is stopped rather than run.
        if (!this.#pool.cancel(i.id)) {
          this.log.error({ id: i.id }, 'the pool had started a task the daemon thought queued')
          this.#pool.abort(i.id)
        }
        return
      case 'abort-task':
        if (!this.#deferred.delete(i.id)) this.#pool.abort(i.id)
        return
      case 'forget-spilled':
        this.#memory.forget(i.files)
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
      case 'send-nested':
        this.#connection?.pushItem('nested', 'items', i.item)
        return
      case 'send-wait':
        this.#connection?.pushItem(i.list, 'keys', i.key)
        return
      case 'to-task':
        this.#pool.sendNested(i.id, i.payload)
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

  /** Memory crossed the pause fraction, or came back under the target. */
  #onMemoryPause(paused: boolean): void {
    this.#connection?.send({ kind: 'memoryPause', paused })
    this.#connection?.flush()
    if (paused) return
    const waiting = [...this.#deferred.values()]
    this.#deferred.clear()
    for (const task of waiting) this.#pool.submit(task)
  }

  #stop(code: number): void {
    clearInterval(this.#heartbeat)
    this.#memory.stop()
    this.#deferred.clear()
    this.#connection?.close(1000, 'worker stopping')
    void this.#pool.close({ force: true }).finally(() => this.#resolveStopped(code))
  }

  async #connectLoop(): Promise<void> {
    let delay = this.options.reconnectInitialDelayMs
    if (this.#flapDelayMs > 0) {
      // The last connection dropped soon after its welcome: whatever closes it may close the
      // next one too, so the backoff goes on from where it was rather than start over.
      const wait = jittered(this.#flapDelayMs)
      this.log.warn(
        { retryInMs: wait },
        `the last connection ended within ${STABLE_CONNECTION_MS / 1000} s of its welcome; backing off`,
      )
      await sleep(wait)
      delay = this.#flapDelayMs
    }
    while (this.#wantsConnection()) {
      try {
        await this.#connect()
        return
      } catch (error) {
        // A refusal of this hello (its token, version or contents) would only come again.
        if (
          error instanceof AuthError ||
          error instanceof VersionMismatchError ||
          error instanceof InvalidOptionError ||
          error instanceof ProtocolError ||
          error instanceof PayloadTooLargeError
        ) {
          this.log.fatal(`the coordinator refused this worker: ${error.message}`)
          this.#feed({ kind: 'refused', stimulusId: ++this.#stimulus })
          return
        }
        const wait = jittered(delay)
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
      memoryBytes: this.options.memory.memoryLimitBytes,
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
    this.#welcomedAt = performance.now()
    this.#workerId = welcome.workerId
    this.#feed({
      kind: 'connected',
      stimulusId: ++this.#stimulus,
      holdResultsOverBytes: welcome.holdResultsOverBytes,
      maxPayload: welcome.maxPayload,
    })
    // A worker paused before it (re)connected says so first.
    if (this.#memory.paused) connection.send({ kind: 'memoryPause', paused: true })
    const inbox = this.#inbox.open()
    connection.setHandlers({
      onMessages: (messages) => {
        for (const m of messages) inbox.push(m)
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
    const { reconnectInitialDelayMs: initial, reconnectMaxDelayMs: max } = this.options
    this.#flapDelayMs =
      performance.now() - this.#welcomedAt < STABLE_CONNECTION_MS
        ? Math.min(Math.max(2 * this.#flapDelayMs, initial), max)
        : 0
    clearInterval(this.#heartbeat)
    this.#connection = undefined
    this.#inbox.close()
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
      case 'nested':
        this.#feed({ kind: 'nested', stimulusId, items: m.items })
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
    const { memoryLimitBytes } = this.options.memory
    const perProcessMb = Math.max(64, Math.floor(memoryLimitBytes / this.options.procs / 2 ** 20))
    return new TaskPool(
      {
        kind: 'process',
        maxWorkers: this.options.procs,
        setupModules: this.options.taskSetupModules,
        maxWaitingPerChild: this.options.maxWaitingPerProc,
        memoryLimitMb: perProcessMb,
        // Each process watches its own RSS against its share (see MemoryManager).
        rssShareFile: this.#memory.shareFile,
        // Freed memory goes back to the system soon (Dask's nanny sets the same).
        env: { MALLOC_TRIM_THRESHOLD_: '65536' },
      },
      {
        onStart: (id: number) => {
          // Start-up no-ops have negative ids (see `WarmUp`): not WorkerState's tasks.
          if (id > 0) this.#feed({ kind: 'task-started', stimulusId: ++this.#stimulus, id })
        },
        onResult: (id: number, value: Uint8Array, durationMs: number) =>
          (id < 0 && this.#warmUp.settle(id)) ||
          this.#feed({
            kind: 'task-finished',
            stimulusId: ++this.#stimulus,
            id,
            value,
            durationMs,
          }),
        onError: (id: number, error: SerializedError, durationMs: number) =>
          (id < 0 && this.#warmUp.settle(id, error)) ||
          this.#feed({ kind: 'task-erred', stimulusId: ++this.#stimulus, id, error, durationMs }),
        onNested: (id: number, payload: Uint8Array) =>
          this.#feed({ kind: 'task-nested', stimulusId: ++this.#stimulus, id, payload }),
        onSecede: (id: number) =>
          this.#feed({ kind: 'task-seceded', stimulusId: ++this.#stimulus, id }),
        onRejoin: (id: number) =>
          this.#feed({ kind: 'task-rejoined', stimulusId: ++this.#stimulus, id }),
      },
    )
  }

  #sendHeartbeat(): void {
    const pids = [process.pid, ...this.#pool.childPids()]
    const cpu = this.#cpu.sample(pids)
    const stats = this.#pool.stats
    const memory = this.#memory.heartbeat()
    this.#connection?.send({
      kind: 'heartbeat',
      running: stats.inFlight,
      queued: stats.queued + this.#deferred.size,
      cpu,
      memoryRss: memory.rssBytes,
      heldBytes: this.#worker.heldBytes,
      memory,
    })
  }

  /** The memory manager, for tests and the curious (spill files, peak RSS). */
  get memory(): MemoryManager {
    return this.#memory
  }
}

/**
 * A connection that lasts less than this after its welcome counts as dropped at once: the
 * reconnect backoff goes on growing instead of starting over. Milliseconds.
 */
const STABLE_CONNECTION_MS = 10_000

/** `ms` less up to half, at random: workers dropped together do not all knock at once. */
function jittered(ms: number): number {
  return Math.round(ms * (0.5 + Math.random() / 2))
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
