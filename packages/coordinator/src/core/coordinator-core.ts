import {
  AbortedError,
  DataLostError,
  DependencyError,
  detachBytes,
  KilledWorkerError,
  NoWorkerError,
  PROTOCOL_VERSION,
  ProtocolError,
  fnKey,
  fnLabel,
  serializeError,
  type AssignDep,
  type ClientHello,
  type ClientToCoordinator,
  type CoordinatorToClient,
  type CoordinatorToWorker,
  type ModuleFnRef,
  type ScatterItem,
  type SerializedError,
  type SourceFnRef,
  type SubmitTask,
  type WireFnRef,
  type WorkerHello,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'
import { CLUSTERPOOL_VERSION, type MessageSink } from '@clusterpool/transport'
import type { Logger } from 'pino'

import type { CoordinatorMetrics } from '../http/metrics.js'
import type { Decision, DepLocation } from '../scheduler/decisions.js'
import { Scheduler } from '../scheduler/scheduler.js'
import type { SchedulerOptions } from '../scheduler/options.js'
import type { ResolvedCoordinatorOptions } from '../server/options.js'
import { DataRelay } from './data-relay.js'
import { ClientSession, WorkerSession } from './sessions.js'
import { buildStatus, type ClusterStatus } from './status.js'
import { Throughput } from './throughput.js'
import { TaskEntry, assignTask, taskSpec, wireFn } from './task-entry.js'

/**
 * The coordinator's brain, free of sockets: client and worker sessions come in through links
 * (WebSocket connections or in-process loopbacks), their messages drive the pure `Scheduler`,
 * and the scheduler's decisions become messages to workers and clients.
 *
 * Data: a small result (up to `holdResultsOverBytes`) travels with its report; the coordinator
 * pushes it to the owning client at once and hands it to dependents inside `assign`. A larger
 * result, like data a client scatters, stays in the memory of its worker: the client hears only
 * its size, dependents preferably run on that worker, and the value moves (relayed through the
 * coordinator, see `DataRelay`) only when a client awaits it or a dependent runs elsewhere — the
 * receiving worker then keeps a replica.
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

/** The function slot of scattered data's entries (they never run). */
const SCATTERED: ModuleFnRef = { kind: 'module', url: 'clusterpool:data', exportName: 'scatter' }
const NO_ARGS = new Uint8Array(0)

/** A task waiting for inputs that live on other workers before it is sent to its own. */
interface WaitingAssign {
  readonly workerId: string
  left: number
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
  readonly #relay = new DataRelay(
    (workerId, key) => this.#workers.get(workerId)?.link.pushItem('fetch', 'keys', key),
    (bytes) => this.#metrics?.relayedBytes.inc(bytes),
  )
  /** Tasks whose `assign` waits for relayed inputs, by key. */
  readonly #waitingAssigns = new Map<string, WaitingAssign>()
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

  /** Values relayed so far (to clients that awaited them, and to workers as inputs), and bytes. */
  get transfers(): { values: number; bytes: number } {
    return { values: this.#relay.values, bytes: this.#relay.bytes }
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
        case 'submit': {
          const before = this.totals.submitted
          for (const t of m.tasks) this.#submit(client, t, now)
          // One update per message, not per task: prom-client counters are not free.
          const accepted = this.totals.submitted - before
          if (accepted > 0) this.#metrics?.tasksSubmitted.inc(accepted)
          break
        }
        case 'cancel':
          for (const id of m.ids) this.#cancel(client, client.key(id), now)
          break
        case 'release':
          for (const id of m.ids) this.#release(client, client.key(id), now)
          break
        case 'gather':
          for (const id of m.ids) this.#gather(client, id)
          break
        case 'scatter':
          for (const item of m.items) this.#scatter(client, item, now)
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

  /** The client awaits a finished task's value (one it was told is `held`). */
  #gather(client: ClientSession, id: number): void {
    const entry = this.#tasks.get(client.key(id))
    if (!entry) {
      const error = new ProtocolError(
        `gather: task ${id} is unknown (released, or never submitted)`,
      )
      client.link.pushItem('errors', 'items', { id, error: serializeError(error) })
      return
    }
    this.#sendValue(entry)
  }

  /** Sends the value of a task in memory to its client: from here, or fetched from a holder. */
  #sendValue(entry: TaskEntry, tried?: Set<string>): void {
    if (entry.value !== undefined) {
      entry.client.link.pushItem('results', 'items', { id: entry.id, value: entry.value })
      return
    }
    const state = this.scheduler.task(entry.key)?.state
    if (state === 'erred' && entry.error) {
      entry.client.link.pushItem('errors', 'items', { id: entry.id, error: entry.error })
      return
    }
    if (state === 'waiting' || state === 'queued' || state === 'processing') {
      entry.gathering = true // lost and being computed again: sent when it is back in memory
      return
    }
    const from = this.scheduler.whoHas(entry.key).find((w) => !tried?.has(w))
    if (from === undefined) {
      const error =
        state === 'memory'
          ? new DataLostError(
              `the value of ${this.#label(entry.key)} could not be fetched from its workers`,
            )
          : new ProtocolError(
              `gather: ${this.#label(entry.key)} has no value (state ${state ?? 'forgotten'})`,
            )
      entry.client.link.pushItem('errors', 'items', { id: entry.id, error: serializeError(error) })
      return
    }
    this.#relay.fetch(entry.key, from, {
      value: (value) => entry.client.link.pushItem('results', 'items', { id: entry.id, value }),
      missing: () => this.#sendValue(entry, (tried ?? new Set()).add(from)),
    })
  }

  /** Data from the client goes to a worker's memory; its future finishes as `held`. */
  #scatter(client: ClientSession, item: ScatterItem, now: number): void {
    const key = client.key(item.id)
    if (this.#tasks.has(key)) {
      const error = new ProtocolError(`scatter id ${item.id} is already in use on this connection`)
      client.link.pushItem('errors', 'items', { id: item.id, error: serializeError(error) })
      return
    }
    const entry = new TaskEntry(
      key,
      client,
      item.id,
      SCATTERED,
      NO_ARGS,
      undefined,
      undefined,
      false,
    )
    entry.scattered = true
    entry.counted = true // not a task: no progress, no totals
    entry.announced = true
    entry.value = detachBytes(item.value) // until it is stored on a worker
    this.#tasks.set(key, entry)
    client.keys.add(key)
    this.scheduler.scatter(
      {
        key,
        clientId: client.id,
        nbytes: item.value.byteLength,
        ...(item.workers === undefined ? {} : { workers: item.workers }),
      },
      now,
    )
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
      detachBytes(t.args),
      deps,
      t.opts,
      t.chunk === true,
    )
    try {
      this.scheduler.submit(taskSpec(key, fnKey(fn), client.id, t.opts, deps), now)
    } catch (error) {
      return fail(error as Error)
    }
    this.#tasks.set(key, entry)
    client.keys.add(key)
    this.#progress(entry).pending++
    this.totals.submitted++
  }

  #progress(entry: TaskEntry): FunctionProgress {
    if (entry.progress) return entry.progress
    const label = fnLabel(entry.fn)
    let p = this.progress.get(label)
    if (!p) {
      p = { pending: 0, running: 0, done: 0, erred: 0 }
      this.progress.set(label, p)
    }
    entry.progress = p
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
    const onWorker =
      view?.state === 'processing' && view.workerId !== null && !this.#waitingAssigns.has(key)
    if (entry.announced && onWorker) {
      // The client's future is running: the task sees its abort signal, and the future ends as
      // the task does (usually with the AbortedError it throws), not before.
      if (entry.aborting) return
      entry.aborting = true
      this.#workers.get(view.workerId)?.link.pushItem('cancel', 'keys', key)
      return
    }
    if (!this.scheduler.cancel(key, now)) return
    this.totals.cancelled++
    if (entry.announced) {
      // Running as far as the client knows, but on no worker now (it was to run again).
      client.link.pushItem('errors', 'items', {
        id: entry.id,
        error: serializeError(
          new AbortedError(
            'the task was aborted before it could run again (its future was cancelled)',
          ),
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
      holdResultsOverBytes: this.#options.holdResultsOverBytes,
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
              if (r.value === undefined) entry.held = true
              else if (entry.value === undefined) entry.arriving = r.value
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
            // An aborted task ends here: an error it throws because of the abort is not retried.
            const final = entry?.aborting === true
            this.scheduler.taskErred(e.key, worker.id, { durationMs: e.durationMs, final }, now)
          }
          break
        case 'stealReply':
          for (const key of m.given) this.scheduler.stealReply(key, worker.id, true, now)
          for (const key of m.kept) this.scheduler.stealReply(key, worker.id, false, now)
          break
        case 'data':
          this.#relay.onData(worker.id, m.items, m.missing)
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
    for (const [key, waiting] of this.#waitingAssigns)
      if (waiting.workerId === worker.id) this.#waitingAssigns.delete(key)
    this.scheduler.removeWorker(worker.id, performance.now())
    this.#apply()
    this.#relay.workerGone(worker.id)
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
    const finished = this.totals.finished
    // Handling a decision may feed the scheduler again (a relayed input that cannot come).
    for (
      let ds = this.scheduler.takeDecisions();
      ds.length > 0;
      ds = this.scheduler.takeDecisions()
    )
      for (const d of ds) this.#decide(d)
    // Counted once per batch of decisions, not per task (`memory` counts `totals.finished`).
    const done = this.totals.finished - finished
    if (done > 0) {
      this.throughput.add(done)
      this.#metrics?.tasksFinished.inc({ outcome: 'finished' }, done)
    }
    this.#changed()
  }

  #changed(): void {
    this.onChange?.()
  }

  #decide(d: Decision): void {
    switch (d.type) {
      case 'assign':
        this.#assign(d.key, d.workerId, d.attempt, d.deps)
        return
      case 'store': {
        const entry = this.#tasks.get(d.key)
        if (!entry || entry.value === undefined) return
        this.#workers
          .get(d.workerId)
          ?.link.pushItem('store', 'items', { key: d.key, value: entry.value })
        entry.value = undefined
        entry.held = true
        return
      }
      case 'cancel-on-worker':
        // Not sent yet (waiting for relayed inputs): the worker has nothing to drop.
        if (this.#takeWaitingAssign(d.key, d.workerId))
          this.scheduler.taskDropped(d.key, d.workerId, performance.now())
        else this.#workers.get(d.workerId)?.link.pushItem('cancel', 'keys', d.key)
        return
      case 'steal-request':
        if (this.#takeWaitingAssign(d.key, d.victimId))
          this.scheduler.stealReply(d.key, d.victimId, true, performance.now())
        else this.#workers.get(d.victimId)?.link.pushItem('steal', 'keys', d.key)
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
        if (!entry?.scattered) this.totals.finished++ // throughput and metrics: in #apply
        if (!entry) return
        if (entry.arriving !== undefined) entry.value = detachBytes(entry.arriving)
        entry.arriving = undefined
        this.#moveProgress(entry, 'done')
        if (entry.gathering) {
          entry.gathering = false
          this.#sendValue(entry)
          return
        }
        if (entry.settled) return
        entry.settled = true
        entry.client.link.pushItem(
          'results',
          'items',
          entry.value !== undefined
            ? { id: entry.id, value: entry.value }
            : entry.held
              ? { id: entry.id, held: d.nbytes }
              : { id: entry.id },
        )
        return
      }
      case 'erred': {
        const entry = this.#tasks.get(d.key)
        this.totals.erred++
        this.throughput.add(1)
        this.#metrics?.tasksFinished.inc({ outcome: 'erred' })
        if (entry) this.#moveProgress(entry, 'erred')
        if (!entry || (entry.settled && !entry.gathering)) return
        entry.settled = true
        entry.gathering = false
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
        if (!entry) return
        this.#moveProgress(entry, 'erred')
        // Kept: a client told the result is `held` may still ask for it (`gather`).
        entry.error = serializeError(this.#failure(d))
        if (entry.settled && !entry.gathering) return
        entry.settled = true
        entry.gathering = false
        entry.client.link.pushItem('errors', 'items', { id: entry.id, error: entry.error })
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
      case 'data-lost':
        return new DataLostError(d.message)
    }
  }

  /** A task as its client names it: the future's key. */
  #label(key: string): string {
    const entry = this.#tasks.get(key)
    return entry ? `${fnLabel(entry.fn)}-${entry.id}` : key
  }

  #assign(key: string, workerId: string, attempt: number, where: readonly DepLocation[]): void {
    const entry = this.#tasks.get(key)
    const worker = this.#workers.get(workerId)
    if (!entry || !worker) return
    if (!entry.announced && !entry.settled) {
      entry.announced = true
      if (!entry.counted) {
        const p = this.#progress(entry)
        p.pending--
        p.running++
      }
      entry.client.link.pushItem('running', 'ids', entry.id)
    }
    if (!entry.deps) return this.#send(entry, worker, attempt, undefined)
    // Inputs: small ones from here; big ones are on the worker already, or relayed to it.
    const deps: AssignDep[] = []
    const relayed: { index: number; from: string }[] = []
    for (const d of entry.deps) {
      const value = this.#valueOf(d.key)
      const from = where.find((l) => l.key === d.key)?.workerId
      if (value === undefined && from !== undefined && from !== workerId)
        relayed.push({ index: deps.length, from })
      deps.push(value === undefined ? { id: d.id, key: d.key } : { id: d.id, key: d.key, value })
    }
    if (relayed.length === 0) return this.#send(entry, worker, attempt, deps)
    const waiting: WaitingAssign = { workerId, left: relayed.length }
    this.#waitingAssigns.set(key, waiting)
    for (const { index, from } of relayed) {
      const dep = deps[index]!
      this.#relay.fetch(dep.key, from, {
        value: (value) => {
          if (this.#waitingAssigns.get(key) !== waiting) return
          deps[index] = { ...dep, value, keep: true }
          if (--waiting.left > 0) return
          this.#waitingAssigns.delete(key)
          const target = this.#workers.get(workerId)
          if (!target) return
          const now = performance.now()
          for (const { index: i } of relayed) this.scheduler.addReplica(deps[i]!.key, workerId, now)
          this.#send(entry, target, attempt, deps)
        },
        // The input is gone from its holder: the task goes back to the scheduler, which
        // waits for the input to be computed again (or fails the task if it cannot be).
        missing: () => {
          if (!this.#takeWaitingAssign(key, workerId)) return
          this.scheduler.taskDropped(key, workerId, performance.now())
        },
      })
    }
  }

  /** Forgets a task's waiting assign to `workerId`; false if there was none. */
  #takeWaitingAssign(key: string, workerId: string): boolean {
    const waiting = this.#waitingAssigns.get(key)
    if (waiting?.workerId !== workerId) return false
    this.#waitingAssigns.delete(key)
    return true
  }

  #send(
    entry: TaskEntry,
    worker: WorkerSession,
    attempt: number,
    deps: readonly AssignDep[] | undefined,
  ): void {
    const sent = entry.fn.kind === 'source' && worker.sentSources.has(entry.fn.hash)
    if (entry.fn.kind === 'source') worker.sentSources.add(entry.fn.hash)
    const task = assignTask(entry, wireFn(entry.fn, sent), attempt, deps)
    worker.link.pushItem('assign', 'tasks', task)
    // Cancelled by its client while it moved (a steal): the new worker drops or aborts it too.
    if (entry.aborting) worker.link.pushItem('cancel', 'keys', entry.key)
  }

  #valueOf(key: string): Uint8Array | undefined {
    return this.#tasks.get(key)?.value
  }
}

export type { CoordinatorToWorker }
