import {
  AbortedError,
  DependencyError,
  KilledWorkerError,
  NoWorkerError,
  PROTOCOL_VERSION,
  ProtocolError,
  fnKey,
  fnLabel,
  serializeError,
  type AssignTask,
  type ClientHello,
  type ClientToCoordinator,
  type CoordinatorToClient,
  type CoordinatorToWorker,
  type SerializedError,
  type SourceFnRef,
  type SubmitTask,
  type WireFnRef,
  type WorkerHello,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'
import { CLUSTERPOOL_VERSION, type MessageSink } from '@clusterpool/worker-node'
import type { Logger } from 'pino'

import type { CoordinatorMetrics } from '../http/metrics.js'
import type { Decision } from '../scheduler/decisions.js'
import { Scheduler } from '../scheduler/scheduler.js'
import type { SchedulerOptions } from '../scheduler/options.js'
import type { ResolvedCoordinatorOptions } from '../server/options.js'
import { ClientSession, WorkerSession } from './sessions.js'
import { buildStatus, type ClusterStatus } from './status.js'
import { Throughput } from './throughput.js'
import { TaskEntry, detach } from './task-entry.js'

/**
 * The coordinator's brain, free of sockets: client and worker sessions come in through links
 * (WebSocket connections or in-process loopbacks), their messages drive the pure `Scheduler`,
 * and the scheduler's decisions become messages to workers and clients.
 *
 * Data moves through the coordinator ("relayed"): workers push each result with its value, the
 * coordinator keeps it while the owning client or a dependent may need it, and hands it to the
 * workers that run dependents inside `assign`.
 */
/** A task that ended on a worker: one bar of the dashboard's task stream. */
export interface TaskEndEvent {
  readonly fn: string
  readonly workerId: string
  /** Wall-clock start and end, milliseconds since the epoch (end − the worker's measured duration). */
  readonly startMs: number
  readonly endMs: number
  readonly ok: boolean
  /** For failures: the error's name, message and task-side stack. */
  readonly error?: SerializedError
}

export interface FunctionProgress {
  pending: number
  running: number
  done: number
  erred: number
}

export class CoordinatorCore {
  readonly scheduler: Scheduler
  readonly startedAt = Date.now()
  readonly #options: ResolvedCoordinatorOptions
  readonly #log: Logger
  readonly #metrics: CoordinatorMetrics | undefined
  readonly #clients = new Map<string, ClientSession>()
  readonly #workers = new Map<string, WorkerSession>()
  readonly #tasks = new Map<string, TaskEntry>()
  readonly #sources = new Map<string, SourceFnRef>()
  readonly throughput = new Throughput()
  readonly totals = { submitted: 0, finished: 0, erred: 0, cancelled: 0 }
  #nextClient = 0
  #nextWorker = 0
  #timer: NodeJS.Timeout | undefined
  /** Called after every change, for live views (the dashboard). */
  onChange: (() => void) | undefined
  /** Called when a task ends on a worker, for the task stream. */
  onTaskEnd: ((event: TaskEndEvent) => void) | undefined
  /** Tasks per function label: pending, running, done, erred. */
  readonly progress = new Map<string, FunctionProgress>()

  constructor(
    options: ResolvedCoordinatorOptions,
    log: Logger,
    metrics?: CoordinatorMetrics,
    scheduler?: SchedulerOptions,
  ) {
    this.#options = options
    this.#log = log
    this.#metrics = metrics
    this.scheduler = new Scheduler({ allowedFailures: options.allowedFailures, ...scheduler })
  }

  /** Starts the periodic tick: work stealing, estimates, heartbeat checks. */
  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#options.tickIntervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    for (const w of this.#workers.values()) w.link.close(4000, 'coordinator shutting down')
    for (const c of this.#clients.values()) c.link.close(4000, 'coordinator shutting down')
  }

  get workerCount(): number {
    return this.#workers.size
  }

  get procs(): number {
    let n = 0
    for (const w of this.#workers.values()) if (w.state === 'running') n += w.procs
    return n
  }

  get clientCount(): number {
    return this.#clients.size
  }

  status(url?: string): ClusterStatus {
    return buildStatus(this, [...this.#workers.values()], url)
  }

  // ─── clients ────────────────────────────────────────────────────────────────────────────

  addClient(
    link: MessageSink<CoordinatorToClient>,
    hello: ClientHello,
    remote: string,
  ): ClientSession {
    const id = `c${++this.#nextClient}`
    const session = new ClientSession(id, hello.name ?? id, remote, link)
    this.#clients.set(id, session)
    link.send({
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      clientId: id,
      maxPayload: this.#options.maxPayload,
      coordinator: {
        name: 'clusterpool-coordinator',
        versions: { node: process.versions.node, clusterpool: CLUSTERPOOL_VERSION },
        workers: this.#workers.size,
        procs: this.procs,
      },
    })
    this.#log.info({ client: id, name: session.name, remote }, 'client connected')
    this.#changed()
    return session
  }

  onClientMessages(client: ClientSession, messages: readonly ClientToCoordinator[]): void {
    const now = performance.now()
    for (const m of messages) {
      switch (m.kind) {
        case 'submit':
          for (const t of m.tasks) this.#submit(client, t, now)
          break
        case 'cancel':
          for (const id of m.ids) this.#cancel(client, client.key(id), now)
          break
        case 'release':
          for (const id of m.ids) this.#release(client, client.key(id), now)
          break
        case 'gather':
          for (const id of m.ids) {
            const entry = this.#tasks.get(client.key(id))
            if (entry?.value) client.link.pushItem('results', 'items', { id, value: entry.value })
            else
              client.link.pushItem('errors', 'items', {
                id,
                error: serializeError(new ProtocolError(`gather: task ${id} has no result here`)),
              })
          }
          break
        case 'scatter':
          for (const item of m.items) {
            client.link.pushItem('errors', 'items', {
              id: item.id,
              error: serializeError(
                new ProtocolError(
                  'scatter is done by the client as a task (ClusterExecutor.scatter)',
                ),
              ),
            })
          }
          break
        case 'ping':
          client.link.send({ kind: 'pong', seq: m.seq })
          break
        case 'hello':
          client.link.close(4400, 'hello was already received')
          return
      }
    }
    this.#apply()
  }

  onClientClosed(client: ClientSession): void {
    if (!this.#clients.delete(client.id)) return
    const now = performance.now()
    for (const key of [...client.keys]) {
      if (this.scheduler.cancel(key, now)) this.totals.cancelled++
      this.scheduler.release(key, now)
      const entry = this.#tasks.get(key)
      if (entry) entry.settled = true
    }
    client.keys.clear()
    this.#log.info(
      { client: client.id },
      'client disconnected; its tasks are cancelled and released',
    )
    this.#apply()
  }

  #submit(client: ClientSession, t: SubmitTask, now: number): void {
    const key = client.key(t.id)
    const fail = (error: Error): void =>
      client.link.pushItem('errors', 'items', { id: t.id, error: serializeError(error) })
    if (this.#tasks.has(key))
      return fail(new ProtocolError(`task id ${t.id} is already in use on this connection`))
    const fn = this.#resolveFn(t.fn)
    if (!fn)
      return fail(
        new ProtocolError(
          `function ${(t.fn as { hash: string }).hash} was never sent with its source`,
        ),
      )
    let deps: { id: number; key: string }[] | undefined
    if (t.deps && t.deps.length > 0) {
      deps = []
      for (const id of t.deps) {
        const depKey = client.key(id)
        if (!this.#tasks.has(depKey))
          return fail(
            new DependencyError(
              `task ${id}`,
              'is unknown to the coordinator (released, or never submitted)',
            ),
          )
        deps.push({ id, key: depKey })
      }
    }
    const entry = new TaskEntry(
      key,
      client,
      t.id,
      fn,
      detach(t.args),
      deps,
      t.opts,
      t.chunk === true,
    )
    try {
      this.scheduler.submit(
        {
          key,
          fnKey: fnKey(fn),
          clientId: client.id,
          ...(t.opts?.priority === undefined ? {} : { priority: t.opts.priority }),
          ...(t.opts?.resources === undefined ? {} : { resources: t.opts.resources }),
          ...(t.opts?.workers === undefined ? {} : { workers: t.opts.workers }),
          ...(t.opts?.allowOtherWorkers === undefined
            ? {}
            : { allowOtherWorkers: t.opts.allowOtherWorkers }),
          ...(t.opts?.retries === undefined ? {} : { retries: t.opts.retries }),
          ...(deps ? { deps: deps.map((d) => d.key) } : {}),
        },
        now,
      )
    } catch (error) {
      return fail(error as Error)
    }
    this.#tasks.set(key, entry)
    client.keys.add(key)
    this.#progress(entry).pending++
    this.totals.submitted++
    this.#metrics?.tasksSubmitted.inc()
  }

  #progress(entry: TaskEntry): FunctionProgress {
    const label = fnLabel(entry.fn)
    let p = this.progress.get(label)
    if (!p) {
      p = { pending: 0, running: 0, done: 0, erred: 0 }
      this.progress.set(label, p)
    }
    return p
  }

  /** Moves a task between progress columns (and out of them when it ends unseen). */
  #moveProgress(entry: TaskEntry, to: 'done' | 'erred' | undefined): void {
    if (entry.counted) return
    entry.counted = true
    const p = this.#progress(entry)
    if (entry.announced) p.running--
    else p.pending--
    if (to) p[to]++
  }

  #resolveFn(fn: WireFnRef): TaskEntry['fn'] | undefined {
    if (fn.kind === 'module') return fn
    if (fn.source !== undefined) {
      const known = this.#sources.get(fn.hash)
      if (known) return known
      const ref: SourceFnRef = { kind: 'source', hash: fn.hash, source: fn.source, name: fn.name }
      this.#sources.set(fn.hash, ref)
      return ref
    }
    return this.#sources.get(fn.hash)
  }

  #cancel(client: ClientSession, key: string, now: number): void {
    const entry = this.#tasks.get(key)
    if (!entry || entry.settled) return
    const view = this.scheduler.task(key)
    const wasRunning = view?.state === 'processing'
    if (!this.scheduler.cancel(key, now)) return
    this.totals.cancelled++
    if (wasRunning && entry.announced) {
      // The client's future is running: its cancel() aborted it. Tell it how it ended.
      client.link.pushItem('errors', 'items', {
        id: entry.id,
        error: serializeError(
          new AbortedError('the task was aborted while running (its future was cancelled)'),
        ),
      })
    } else {
      client.link.pushItem('cancelled', 'ids', entry.id)
    }
    entry.settled = true
    this.scheduler.release(key, now)
  }

  #release(client: ClientSession, key: string, now: number): void {
    const entry = this.#tasks.get(key)
    if (entry) entry.settled = true
    client.keys.delete(key)
    this.scheduler.release(key, now)
  }

  // ─── workers ────────────────────────────────────────────────────────────────────────────

  addWorker(link: WorkerSession['link'], hello: WorkerHello, remote: string): WorkerSession {
    const id = `w${++this.#nextWorker}`
    const session = new WorkerSession({
      id,
      name: hello.name,
      host: hello.host,
      pid: hello.pid,
      procs: hello.procs,
      resources: hello.resources,
      memoryBytes: hello.memoryBytes,
      versions: hello.versions,
      remote,
      link,
    })
    this.#workers.set(id, session)
    link.send({
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      workerId: id,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
      maxPayload: this.#options.maxPayload,
    })
    this.scheduler.addWorker(
      { id, name: hello.name, host: hello.host, procs: hello.procs, resources: hello.resources },
      performance.now(),
    )
    this.#log.info(
      { worker: id, name: hello.name, host: hello.host, procs: hello.procs, remote },
      'worker joined',
    )
    this.#broadcastSize()
    this.#apply()
    return session
  }

  onWorkerMessages(worker: WorkerSession, messages: readonly WorkerToCoordinator[]): void {
    const now = performance.now()
    worker.lastHeartbeat = Date.now()
    for (const m of messages) {
      switch (m.kind) {
        case 'heartbeat':
          worker.cpu = m.cpu
          worker.memoryRss = m.memoryRss
          worker.heldBytes = m.heldBytes
          worker.running = m.running
          worker.queued = m.queued
          break
        case 'results':
          for (const r of m.items) {
            const entry = this.#tasks.get(r.key)
            if (entry) {
              // Taken as the value once the scheduler accepts a result (`memory`); any run's
              // result is a valid value of the task, so which worker sent it does not matter.
              if (r.value !== undefined && entry.value === undefined) entry.arriving = r.value
              this.#taskEnded(entry, worker, r.durationMs, undefined)
            }
            this.#metrics?.taskDuration.observe(r.durationMs / 1000)
            this.scheduler.taskFinished(
              r.key,
              worker.id,
              { durationMs: r.durationMs, nbytes: r.size },
              now,
            )
          }
          break
        case 'errors':
          for (const e of m.items) {
            const entry = this.#tasks.get(e.key)
            if (entry) {
              entry.error = e.error
              this.#taskEnded(entry, worker, e.durationMs, e.error)
            }
            this.scheduler.taskErred(e.key, worker.id, { durationMs: e.durationMs }, now)
          }
          break
        case 'stealReply':
          for (const key of m.given) this.scheduler.stealReply(key, worker.id, true, now)
          for (const key of m.kept) this.scheduler.stealReply(key, worker.id, false, now)
          break
        case 'data':
          break
        case 'leaving':
          worker.state = 'leaving'
          this.scheduler.pauseWorker(worker.id, now)
          for (const key of m.returned) this.scheduler.taskDropped(key, worker.id, now)
          this.#log.info(
            { worker: worker.id, returned: m.returned.length },
            'worker leaving; its queued tasks go elsewhere',
          )
          break
        case 'hello':
          worker.link.close(4400, 'hello was already received')
          return
      }
    }
    this.#apply()
  }

  #taskEnded(
    entry: TaskEntry,
    worker: WorkerSession,
    durationMs: number,
    error: SerializedError | undefined,
  ): void {
    if (!this.onTaskEnd) return
    const endMs = Date.now()
    this.onTaskEnd({
      fn: fnLabel(entry.fn),
      workerId: worker.id,
      startMs: endMs - durationMs,
      endMs,
      ok: error === undefined,
      ...(error ? { error } : {}),
    })
  }

  onWorkerClosed(worker: WorkerSession): void {
    if (!this.#workers.delete(worker.id)) return
    worker.state = 'gone'
    this.scheduler.removeWorker(worker.id, performance.now())
    this.#log.info(
      { worker: worker.id, name: worker.name },
      'worker left; its unfinished tasks are rescheduled',
    )
    this.#broadcastSize()
    this.#apply()
  }

  #broadcastSize(): void {
    const procs = this.procs
    for (const c of this.#clients.values())
      c.link.send({ kind: 'cluster', workers: this.#workers.size, procs })
  }

  #tick(): void {
    const now = Date.now()
    for (const w of this.#workers.values()) {
      if (now - w.lastHeartbeat > this.#options.workerTimeoutMs) {
        this.#log.warn(
          { worker: w.id, name: w.name, silentMs: now - w.lastHeartbeat },
          'worker missed its heartbeats; removing it',
        )
        w.link.terminate?.()
        w.link.close(4408, 'missed heartbeats')
        this.onWorkerClosed(w)
      }
    }
    this.scheduler.tick(performance.now())
    this.#apply()
  }

  // ─── decisions ──────────────────────────────────────────────────────────────────────────

  #apply(): void {
    for (const d of this.scheduler.takeDecisions()) this.#decide(d)
    this.#changed()
  }

  #changed(): void {
    this.onChange?.()
  }

  #decide(d: Decision): void {
    switch (d.type) {
      case 'assign':
        this.#assign(d.key, d.workerId, d.attempt)
        return
      case 'cancel-on-worker':
        this.#workers.get(d.workerId)?.link.pushItem('cancel', 'keys', d.key)
        return
      case 'steal-request':
        this.#workers.get(d.victimId)?.link.pushItem('steal', 'keys', d.key)
        return
      case 'release-data':
        for (const id of d.workerIds) this.#workers.get(id)?.link.pushItem('release', 'keys', d.key)
        return
      case 'forgotten': {
        const entry = this.#tasks.get(d.key)
        if (entry) {
          this.#moveProgress(entry, undefined)
          this.#tasks.delete(d.key)
          entry.client.keys.delete(d.key)
        }
        return
      }
      case 'memory': {
        const entry = this.#tasks.get(d.key)
        this.totals.finished++
        this.throughput.add(1)
        this.#metrics?.tasksFinished.inc({ outcome: 'finished' })
        if (entry) {
          if (entry.arriving !== undefined) entry.value = detach(entry.arriving)
          entry.arriving = undefined
          this.#moveProgress(entry, 'done')
        }
        if (!entry || entry.settled) return
        entry.settled = true
        entry.client.link.pushItem(
          'results',
          'items',
          entry.value === undefined ? { id: entry.id } : { id: entry.id, value: entry.value },
        )
        return
      }
      case 'erred': {
        const entry = this.#tasks.get(d.key)
        this.totals.erred++
        this.throughput.add(1)
        this.#metrics?.tasksFinished.inc({ outcome: 'erred' })
        if (entry) this.#moveProgress(entry, 'erred')
        if (!entry || entry.settled) return
        entry.settled = true
        entry.client.link.pushItem('errors', 'items', {
          id: entry.id,
          error:
            entry.error ?? serializeError(new ProtocolError('the task failed without an error')),
        })
        return
      }
      case 'failed': {
        const entry = this.#tasks.get(d.key)
        this.totals.erred++
        this.#metrics?.tasksFinished.inc({ outcome: d.reason })
        if (entry) this.#moveProgress(entry, 'erred')
        if (!entry || entry.settled) return
        entry.settled = true
        entry.client.link.pushItem('errors', 'items', {
          id: entry.id,
          error: serializeError(this.#failure(d)),
        })
        return
      }
      case 'retry':
        this.#log.debug({ key: d.key, attempt: d.attempt }, 'retrying a failed task')
        return
      case 'recomputing':
        this.#log.info(
          { key: d.key, lostOn: d.lostOn },
          'recomputing a result lost with its worker',
        )
        return
    }
  }

  #failure(d: Extract<Decision, { type: 'failed' }>): Error {
    switch (d.reason) {
      case 'killed-worker':
        return new KilledWorkerError(this.#label(d.key), d.workers ?? [])
      case 'dependency': {
        const dep = d.dependency === undefined ? 'a dependency' : this.#label(d.dependency)
        return new DependencyError(dep, d.message.replace(/^.*?dependency \S+ /, ''))
      }
      case 'no-worker':
        return new NoWorkerError(d.message)
    }
  }

  /** A task as its client names it: the future's key. */
  #label(key: string): string {
    const entry = this.#tasks.get(key)
    return entry ? `${fnLabel(entry.fn)}-${entry.id}` : key
  }

  #assign(key: string, workerId: string, attempt: number): void {
    const entry = this.#tasks.get(key)
    const worker = this.#workers.get(workerId)
    if (!entry || !worker) return
    const fn: WireFnRef =
      entry.fn.kind === 'source' && worker.sentSources.has(entry.fn.hash)
        ? { kind: 'source', hash: entry.fn.hash, name: entry.fn.name }
        : entry.fn
    if (entry.fn.kind === 'source') worker.sentSources.add(entry.fn.hash)
    const task: AssignTask = {
      key,
      fn,
      args: entry.args,
      attempt,
      ...(entry.deps
        ? {
            deps: entry.deps.map((d) => ({
              id: d.id,
              key: d.key,
              ...(this.#valueOf(d.key) ? { value: this.#valueOf(d.key)! } : {}),
            })),
          }
        : {}),
      ...(entry.opts ? { opts: entry.opts } : {}),
      ...(entry.chunk ? { chunk: true } : {}),
    }
    worker.link.pushItem('assign', 'tasks', task)
    if (!entry.announced && !entry.settled) {
      entry.announced = true
      if (!entry.counted) {
        const p = this.#progress(entry)
        p.pending--
        p.running++
      }
      entry.client.link.pushItem('running', 'ids', entry.id)
    }
  }

  #valueOf(key: string): Uint8Array | undefined {
    return this.#tasks.get(key)?.value
  }
}

export type { CoordinatorToWorker }
