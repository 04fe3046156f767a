import { hostname, totalmem } from 'node:os'

import {
  AbortedError,
  detachBytes,
  AuthError,
  InvalidOptionError,
  PROTOCOL_VERSION,
  VersionMismatchError,
  createDecoder,
  createEncoder,
  encodeValue,
  serializeError,
  substituteDeps,
  type AssignTask,
  type CoordinatorToWorker,
  type FnRef,
  type SerializedError,
  type SourceFnRef,
  type WorkerHello,
  type WorkerToCoordinator,
  type WorkerWelcome,
} from '@clusterpool/protocol'
import { TaskPool, type PoolTask } from '@clusterpool/pool'
import { CLUSTERPOOL_VERSION, openSession, type Connection } from '@clusterpool/transport'
import { destination, pino, type Logger } from 'pino'

import { CpuMeter, rssBytes } from './cpu.js'
import {
  resolveWorkerDaemonOptions,
  type ResolvedWorkerDaemonOptions,
  type WorkerDaemonOptions,
} from './options.js'

type CoordinatorConnection = Connection<'coordinator->worker', WorkerToCoordinator>

/**
 * A worker daemon's life:
 *
 * ```
 *  connecting ──welcome──▶ running ──connection lost──▶ reconnecting ──(backoff)──▶ connecting
 *      │                      │
 *      │ refused (token,      └──drain() (SIGTERM/SIGINT)──▶ draining ──tasks done──▶ stopped
 *      ▼  version)
 *    failed (exit 1)
 * ```
 */
export type WorkerDaemonState =
  'connecting' | 'running' | 'reconnecting' | 'draining' | 'stopped' | 'failed'

interface RunningTask {
  readonly key: string
  readonly keep: boolean
  startedAt: number
  started: boolean
}

/** Runs tasks from a coordinator on a local process pool. */
export class WorkerDaemon {
  readonly options: ResolvedWorkerDaemonOptions
  readonly log: Logger
  #state: WorkerDaemonState = 'connecting'
  #pool: TaskPool
  #connection: CoordinatorConnection | undefined
  #workerId: string | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #tasks = new Map<number, RunningTask>()
  #ids = new Map<string, number>()
  #nextId = 0
  #sources = new Map<string, SourceFnRef>()
  /** Values kept on this worker (`keep` results and received dependencies), by task key. */
  #held = new Map<string, Uint8Array>()
  #heldBytes = 0
  /** Results larger than this stay here (the coordinator's `holdResultsOverBytes`). Bytes. */
  #holdOverBytes = DEFAULT_HOLD_OVER_BYTES
  #encoder = createEncoder()
  #decoder = createDecoder()
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
    return this.#state
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
    if (this.#state === 'draining' || this.#state === 'stopped' || this.#state === 'failed')
      return this.#stopped.then(() => {})
    const wasConnected = this.#state === 'running'
    this.#state = 'draining'
    this.log.info(
      { running: this.#tasks.size },
      'draining: finishing running tasks, handing back queued ones',
    )
    const returned: string[] = []
    for (const [id, t] of this.#tasks) {
      if (!t.started && this.#pool.cancel(id)) {
        this.#forget(id)
        returned.push(t.key)
      }
    }
    if (wasConnected) {
      this.#connection?.send({ kind: 'leaving', returned })
      this.#connection?.flush()
    }
    const deadline = Date.now() + this.options.drainTimeoutMs
    while (this.#tasks.size > 0 && Date.now() < deadline) await sleep(20)
    await this.#pool.close({ force: this.#tasks.size > 0 })
    this.#stop(0)
  }

  #stop(code: number): void {
    if (this.#state !== 'failed') this.#state = code === 0 ? 'stopped' : 'failed'
    clearInterval(this.#heartbeat)
    this.#connection?.close(1000, 'worker stopping')
    void this.#pool.close({ force: true }).finally(() => this.#resolveStopped(code))
  }

  async #connectLoop(): Promise<void> {
    let delay = this.options.reconnectInitialDelayMs
    while (this.#state === 'connecting' || this.#state === 'reconnecting') {
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
          this.#state = 'failed'
          this.#stop(1)
          return
        }
        this.log.warn({ retryInMs: delay }, (error as Error).message)
        await sleep(delay)
        delay = Math.min(delay * 2, this.options.reconnectMaxDelayMs)
      }
    }
  }

  async #connect(): Promise<void> {
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
    }
    const { connection, welcome } = await openSession<
      'coordinator->worker',
      WorkerToCoordinator,
      WorkerWelcome
    >(this.options.coordinatorUrl, 'coordinator->worker', hello, {
      ...(this.options.token === undefined ? {} : { token: this.options.token }),
      ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
    })
    if (this.#state !== 'connecting' && this.#state !== 'reconnecting') {
      connection.close(1000, 'worker stopping')
      return
    }
    this.#connection = connection
    this.#workerId = welcome.workerId
    this.#holdOverBytes = welcome.holdResultsOverBytes ?? DEFAULT_HOLD_OVER_BYTES
    this.#sources.clear()
    this.#state = 'running'
    connection.setHandlers({
      onMessages: (messages) => {
        for (const m of messages) this.#handle(m)
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
      },
      'registered with the coordinator',
    )
  }

  #onConnectionLost(code: number, reason: string): void {
    clearInterval(this.#heartbeat)
    this.#connection = undefined
    if (this.#state !== 'running') return
    this.log.warn({ code, reason }, 'lost the coordinator; dropping its tasks and reconnecting')
    // The coordinator reschedules everything this worker had; running them on is wasted work.
    for (const id of [...this.#tasks.keys()]) {
      if (!this.#pool.cancel(id)) this.#pool.abort(id)
      this.#forget(id)
    }
    this.#held.clear()
    this.#heldBytes = 0
    this.#state = 'reconnecting'
    void this.#connectLoop()
  }

  #handle(m: CoordinatorToWorker): void {
    switch (m.kind) {
      case 'assign':
        for (const t of m.tasks) this.#assign(t)
        return
      case 'cancel':
        for (const key of m.keys) {
          // A queued task is dropped and reported as aborted; a running one gets its abort
          // signal and reports however it ends. Either way the coordinator hears back, so it
          // knows when the process slot is free again.
          const id = this.#ids.get(key)
          if (id === undefined) continue
          if (this.#pool.cancel(id)) {
            this.#forget(id)
            this.#connection?.pushItem('errors', 'items', {
              key,
              error: serializeError(new AbortedError('the task was cancelled before it started')),
              durationMs: 0,
            })
          } else {
            this.#pool.abort(id)
          }
        }
        return
      case 'steal': {
        const given: string[] = []
        const kept: string[] = []
        for (const key of m.keys) {
          const id = this.#ids.get(key)
          const t = id === undefined ? undefined : this.#tasks.get(id)
          if (id !== undefined && t && !t.started && this.#pool.cancel(id)) {
            this.#forget(id)
            given.push(key)
          } else {
            kept.push(key)
          }
        }
        this.#connection?.send({ kind: 'stealReply', given, kept })
        return
      }
      case 'fetch': {
        const items = []
        const missing = []
        for (const key of m.keys) {
          const value = this.#held.get(key)
          if (value) items.push({ key, value })
          else missing.push(key)
        }
        this.#connection?.send({ kind: 'data', items, ...(missing.length ? { missing } : {}) })
        return
      }
      case 'store':
        for (const { key, value } of m.items) this.#hold(key, detachBytes(value))
        return
      case 'release':
        for (const key of m.keys) this.#release(key)
        return
      case 'shutdown':
        this.log.warn({ reason: m.reason }, 'the coordinator asked this worker to shut down')
        this.#stop(0)
        return
      case 'welcome':
      case 'refuse':
        this.log.warn({ kind: m.kind }, 'unexpected message after the handshake; ignored')
        return
    }
  }

  #assign(t: AssignTask): void {
    if (this.#state !== 'running') return
    // A relayed input becomes a replica here: the coordinator may place more dependents here.
    if (t.deps)
      for (const d of t.deps) if (d.keep && d.value) this.#hold(d.key, detachBytes(d.value))
    const id = ++this.#nextId
    let fn: FnRef
    let args = t.args
    try {
      fn = this.#resolveFn(t)
      if (t.deps && t.deps.length > 0) args = this.#substitute(t)
    } catch (error) {
      this.#connection?.pushItem('errors', 'items', {
        key: t.key,
        error: serializeError(error),
        durationMs: 0,
      })
      return
    }
    this.#tasks.set(id, { key: t.key, keep: t.keep === true, startedAt: 0, started: false })
    this.#ids.set(t.key, id)
    const task: { -readonly [K in keyof PoolTask]: PoolTask[K] } = {
      id,
      fn,
      args,
      attempt: t.attempt,
    }
    if (t.opts?.timeoutMs !== undefined) task.timeoutMs = t.opts.timeoutMs
    if (t.chunk) task.chunk = true
    this.#pool.submit(task)
  }

  #resolveFn(t: AssignTask): FnRef {
    if (t.fn.kind === 'module') return t.fn
    if (t.fn.source !== undefined) {
      const ref: SourceFnRef = {
        kind: 'source',
        hash: t.fn.hash,
        source: t.fn.source,
        name: t.fn.name,
      }
      this.#sources.set(t.fn.hash, ref)
      return ref
    }
    const known = this.#sources.get(t.fn.hash)
    if (!known)
      throw new InvalidOptionError(
        `task ${t.key}: function ${t.fn.hash} was never sent to this worker`,
      )
    return known
  }

  /** Puts dependency values where the client left `DepRef`s. */
  #substitute(t: AssignTask): Uint8Array {
    const values = new Map<number, unknown>()
    for (const d of t.deps ?? []) {
      const bytes = d.value ?? this.#held.get(d.key)
      if (bytes === undefined)
        throw new InvalidOptionError(`task ${t.key}: dependency ${d.key} is not on this worker`)
      values.set(d.id, this.#decoder.decode(bytes))
    }
    const decoded = this.#decoder.decode(t.args)
    // encodeValue, not a bare encode: it boxes Maps, which a bare encode turns into objects.
    return encodeValue(
      this.#encoder,
      substituteDeps(decoded, (depId) => values.get(depId)),
      'argument',
    )
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
        onStart: (id) => {
          const t = this.#tasks.get(id)
          if (t) {
            t.started = true
            t.startedAt = performance.now()
          }
        },
        onResult: (id, value, durationMs) => this.#onResult(id, value, durationMs),
        onError: (id, error, durationMs) => this.#onError(id, error, durationMs),
      },
    )
  }

  #onResult(id: number, value: Uint8Array, durationMs: number): void {
    const t = this.#tasks.get(id)
    if (!t) return
    this.#forget(id)
    if (t.keep || value.byteLength > this.#holdOverBytes) {
      this.#hold(t.key, detachBytes(value)) // kept long: not as a view into a read buffer
      this.#connection?.pushItem('results', 'items', {
        key: t.key,
        size: value.byteLength,
        durationMs,
      })
    } else {
      this.#connection?.pushItem('results', 'items', {
        key: t.key,
        value,
        size: value.byteLength,
        durationMs,
      })
    }
  }

  #onError(id: number, error: SerializedError, durationMs: number): void {
    const t = this.#tasks.get(id)
    if (!t) return
    this.#forget(id)
    this.#connection?.pushItem('errors', 'items', { key: t.key, error, durationMs })
  }

  #forget(id: number): void {
    const t = this.#tasks.get(id)
    if (!t) return
    this.#tasks.delete(id)
    this.#ids.delete(t.key)
  }

  #hold(key: string, value: Uint8Array): void {
    this.#release(key)
    this.#held.set(key, value)
    this.#heldBytes += value.byteLength
  }

  #release(key: string): void {
    const old = this.#held.get(key)
    if (old) {
      this.#heldBytes -= old.byteLength
      this.#held.delete(key)
    }
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
      heldBytes: this.#heldBytes,
    })
  }
}

/** When the coordinator does not say (`holdResultsOverBytes` left out of its welcome). Bytes. */
const DEFAULT_HOLD_OVER_BYTES = 64 * 1024

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
