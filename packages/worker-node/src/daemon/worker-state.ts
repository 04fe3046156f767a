import {
  AbortedError,
  FRAME_ENVELOPE_BYTES,
  InvalidStateError,
  nextState,
  detachBytes,
  serializeError,
  type AssignTask,
  type DataItem,
  type WorkerInventory,
} from '@clusterpool/protocol'

import { HeldData } from './held-data.js'
import { refuseFrame, refuseOversize } from './nested-frames.js'
import { buildInventory, ReportLog } from './report-log.js'
import {
  DAEMON_TRANSITIONS,
  DaemonState,
  WORKER_TASK_TRANSITIONS,
  WorkerTaskState,
  type DaemonTransition,
  type WorkerTaskTransition,
} from './states.js'
import { TaskInputs } from './task-inputs.js'
import {
  DEFAULT_HOLD_OVER_BYTES,
  EXECUTOR_LOST,
  MAX_DEFERRED,
  UNCLAIMED,
  resultTooLarge,
  type TaskRecord,
} from './task-record.js'
import type { RunTask, WorkerEvent, WorkerInstruction } from './worker-events.js'

export { DEFAULT_HOLD_OVER_BYTES } from './task-record.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const { QUEUED, RUNNING, CANCELLING, DONE, RELEASED } = WorkerTaskState

/**
 * A worker daemon's state, without I/O: `handle(event)` applies one event (a coordinator
 * message, a pool report, a change of the link) and appends what the daemon must do to the
 * instruction list, in order, as Dask's `WorkerState.handle_stimulus` does. No clocks, timers,
 * sockets or processes: `WorkerDaemon` turns the world into events and carries the instructions
 * out.
 *
 * Task states and the daemon's own states are drawn in `states.ts`; every change goes through
 * `WORKER_TASK_TRANSITIONS` or `DAEMON_TRANSITIONS` and an illegal one throws `InvalidStateError` (a
 * bug: the pool or the coordinator broke its contract, or this class did).
 *
 * Reading an event never keeps the event object itself, only what it carries.
 */
export class WorkerState {
  #state: DaemonState = DaemonState.CONNECTING
  /** Unfinished tasks, by the pool's id. */
  readonly #tasks = new Map<number, TaskRecord>()
  /** Pool ids by task key. */
  readonly #ids = new Map<string, number>()
  #nextId = 0
  readonly #held = new HeldData()
  /** The reports sent lately or during an outage (see `ReportLog`). */
  readonly #log = new ReportLog()
  /** Keys of the last inventory: an `assign` of one is answered from what is kept here. */
  #carried = new Set<string>()
  readonly #inputs = new TaskInputs()
  /** Results larger than this stay here (the coordinator's `holdResultsOverBytes`). Bytes. */
  #holdOverBytes = DEFAULT_HOLD_OVER_BYTES
  /** The coordinator's `maxPayload`: a task's frame past it is refused here. Bytes. */
  #maxPayload = Infinity

  get state(): DaemonState {
    return this.#state
  }

  /** Tasks assigned and not finished (queued, running or cancelling). */
  get taskCount(): number {
    return this.#tasks.size
  }

  /** Bytes of values held here, in memory or spilled, for the heartbeat. */
  get heldBytes(): number {
    return this.#held.bytes
  }

  /** The values held here, for the memory manager (which spills and restores them). */
  get held(): HeldData {
    return this.#held
  }

  /** The state of the unfinished task `key`; undefined once it finished or was dropped. */
  taskState(key: string): WorkerTaskState | undefined {
    const id = this.#ids.get(key)
    return id === undefined ? undefined : this.#tasks.get(id)?.state
  }

  /** Whether `key`'s value is held here (in memory or spilled). */
  holds(key: string): boolean {
    return this.#held.has(key)
  }

  /**
   * What this worker kept through the outage, for the `hello` of a reconnect: its tasks (all
   * orphans now), the reports it keeps, its held values. Undefined on a first connection.
   */
  inventory(): WorkerInventory | undefined {
    if (this.#state !== DaemonState.RECONNECTING) return undefined
    const inventory = buildInventory(this.#ids.keys(), this.#log, this.#held.items())
    this.#carried = new Set(inventory.tasks)
    for (const h of inventory.held) this.#carried.add(h.key)
    return inventory
  }

  /** Applies `event`; appends the instructions it causes to `out` (a new list if left out). */
  handle(event: WorkerEvent, out: WorkerInstruction[] = []): WorkerInstruction[] {
    const s = event.stimulusId
    switch (event.kind) {
      // The hot path first: a task's start and end, then assignments.
      case 'task-started': {
        const t = this.#tasks.get(event.id)
        if (t !== undefined) this.#transition(t, 'start', s)
        break
      }
      case 'task-finished': {
        const t = this.#tasks.get(event.id)
        if (t === undefined) break // dropped with a lost coordinator; nobody waits for it
        this.#finish(t, s)
        const { value, durationMs } = event
        const reported = this.#reporting(t)
        if (value.byteLength + FRAME_ENVELOPE_BYTES > this.#maxPayload) {
          // It could never reach a client, nor a task elsewhere: every frame it would go in is
          // past the coordinator's limit, which closes this worker's connection, failing the
          // other tasks here too. The task fails alone instead.
          const error = serializeError(resultTooLarge(value.byteLength, this.#maxPayload))
          const item = { key: t.key, error, durationMs }
          this.#log.error(item)
          if (reported) out.push({ kind: 'send-error', stimulusId: s, item })
          break
        }
        if (t.keep || value.byteLength > this.#holdOverBytes) {
          // Kept long as it is: the pool's results own their bytes (`PoolEvents.onResult`).
          this.#keep(t.key, value, s, out)
          const item = { key: t.key, size: value.byteLength, durationMs }
          this.#log.result(item)
          if (reported) out.push({ kind: 'send-result', stimulusId: s, item })
        } else {
          const item = { key: t.key, value, size: value.byteLength, durationMs }
          this.#log.result(item)
          if (reported) out.push({ kind: 'send-result', stimulusId: s, item })
        }
        break
      }
      case 'task-erred': {
        const t = this.#tasks.get(event.id)
        if (t === undefined) break
        this.#finish(t, s)
        const item = { key: t.key, error: event.error, durationMs: event.durationMs }
        this.#log.error(item)
        if (this.#reporting(t)) out.push({ kind: 'send-error', stimulusId: s, item })
        break
      }
      case 'task-nested': {
        // While draining too: the running tasks finish, and may wait for children to.
        const t = this.#tasks.get(event.id)
        if (t === undefined || !this.#serving()) break
        const refusal =
          refuseOversize(event.payload, this.#maxPayload) ??
          (t.orphan && (t.deferred?.length ?? 0) >= MAX_DEFERRED
            ? refuseFrame(event.payload, UNCLAIMED)
            : undefined)
        if (refusal !== undefined) {
          if (refusal.byteLength > 0)
            out.push({ kind: 'to-task', stimulusId: s, id: t.id, payload: refusal })
          break
        }
        this.#toCoordinator(t, out, {
          kind: 'send-nested',
          stimulusId: s,
          item: { key: t.key, payload: event.payload },
        })
        break
      }
      case 'task-seceded':
      case 'task-rejoined': {
        const t = this.#tasks.get(event.id)
        if (t === undefined || !this.#serving()) break
        const list = event.kind === 'task-seceded' ? 'seceded' : 'rejoined'
        this.#toCoordinator(t, out, { kind: 'send-wait', stimulusId: s, list, key: t.key })
        break
      }
      case 'nested':
        for (const item of event.items) {
          const id = this.#ids.get(item.key)
          if (id !== undefined)
            out.push({ kind: 'to-task', stimulusId: s, id, payload: item.payload })
        }
        break
      case 'assign':
        if (this.#state !== DaemonState.RUNNING) break
        for (const t of event.tasks) this.#assign(t, s, out)
        break
      case 'connected':
        this.#move('connect', s)
        this.#holdOverBytes = event.holdResultsOverBytes ?? DEFAULT_HOLD_OVER_BYTES
        this.#maxPayload = event.maxPayload ?? Infinity
        this.#inputs.forgetSources()
        // Tasks that ran through the outage: whatever their executors submitted is not known to
        // this coordinator (frames were dropped meanwhile, and a restarted one never had them).
        // Their unfinished futures fail now, with ConnectionLostError, rather than wait forever.
        for (const t of this.#tasks.values()) {
          if (t.state === RUNNING || t.state === CANCELLING)
            out.push({ kind: 'to-task', stimulusId: s, id: t.id, payload: EXECUTOR_LOST })
        }
        break
      case 'refused':
        this.#move('refuse', s)
        out.push({ kind: 'stop', stimulusId: s, code: 1 })
        break
      case 'coordinator-lost':
        this.#onLost(s, out)
        break
      case 'cancel':
        for (const key of event.keys) this.#cancel(key, s, out)
        break
      case 'steal': {
        const given: string[] = []
        const kept: string[] = []
        for (const key of event.keys) {
          const t = this.#record(key)
          if (t?.state === QUEUED) {
            this.#drop(t, s, out)
            given.push(key)
          } else {
            kept.push(key)
          }
        }
        out.push({ kind: 'send', stimulusId: s, message: { kind: 'stealReply', given, kept } })
        break
      }
      case 'fetch': {
        const items: DataItem[] = []
        const missing: string[] = []
        for (const key of event.keys) {
          const value = this.#held.get(key)
          if (value) items.push({ key, value })
          else missing.push(key)
        }
        const message = { kind: 'data', items, ...(missing.length ? { missing } : {}) } as const
        out.push({ kind: 'send', stimulusId: s, message })
        break
      }
      case 'store':
        for (const { key, value } of event.items) this.#keep(key, detachBytes(value), s, out)
        break
      case 'release': {
        const files: [string, number][] = []
        for (const key of event.keys) {
          const spilled = this.#held.release(key)
          if (spilled !== undefined) files.push([key, spilled])
          this.#log.drop(key)
          this.#carried.delete(key)
        }
        if (files.length > 0) out.push({ kind: 'forget-spilled', stimulusId: s, files })
        break
      }
      case 'shutdown':
      case 'drained':
        if (this.#state === DaemonState.STOPPED || this.#state === DaemonState.FAILED) break
        this.#move('stop', s)
        out.push({ kind: 'stop', stimulusId: s, code: 0 })
        break
      case 'drain':
        this.#drain(s, out)
        break
    }
    return out
  }

  /** Connected and serving its tasks: running, or draining (finishing the running ones). */
  #serving(): boolean {
    return this.#state === DaemonState.RUNNING || this.#state === DaemonState.DRAINING
  }

  #assign(t: AssignTask, s: number, out: WorkerInstruction[]): void {
    if (this.#carried.size > 0 && this.#carried.delete(t.key)) {
      // The coordinator counts the source as sent with this assign: keep it for later ones.
      if (t.fn.kind === 'source' && t.fn.source !== undefined) this.#inputs.remember(t)
      if (this.#adopt(t.key, s, out)) return
    }
    // A relayed input becomes a replica here: the coordinator may place more dependents here.
    if (t.deps)
      for (const d of t.deps) if (d.keep && d.value) this.#keep(d.key, detachBytes(d.value), s, out)
    const id = ++this.#nextId
    let run: Mutable<RunTask>
    try {
      const fn = this.#inputs.resolveFn(t)
      const args = t.deps && t.deps.length > 0 ? this.#inputs.substitute(t, this.#held) : t.args
      run = { kind: 'run-task', stimulusId: s, id, fn, args, attempt: t.attempt }
    } catch (error) {
      const item = { key: t.key, error: serializeError(error), durationMs: 0 }
      out.push({ kind: 'send-error', stimulusId: s, item })
      return
    }
    this.#tasks.set(id, { key: t.key, id, keep: t.keep === true, state: QUEUED, orphan: false })
    this.#ids.set(t.key, id)
    if (t.opts?.timeoutMs !== undefined) run.timeoutMs = t.opts.timeoutMs
    if (t.chunk) run.chunk = true
    out.push(run)
  }

  /**
   * A restarted coordinator assigns a key this worker kept through the outage: bind to what is
   * here instead of running it again. A task still running reports when it ends; a kept report
   * or a held result is sent now. False if nothing is left of it (it runs afresh).
   */
  #adopt(key: string, s: number, out: WorkerInstruction[]): boolean {
    const t = this.#record(key)
    if (t !== undefined) {
      t.orphan = false
      // What its executor sent while nobody knew the task, in order, now that someone does.
      if (t.deferred !== undefined) out.push(...t.deferred)
      t.deferred = undefined
      return true
    }
    const r = this.#log.take(key)
    if (r !== undefined) {
      if (r.kind === 'error') out.push({ kind: 'send-error', stimulusId: s, item: r.item })
      else out.push({ kind: 'send-result', stimulusId: s, item: r.item })
      return true
    }
    const held = this.#held.get(key)
    if (held === undefined) return false
    const item = { key, size: held.byteLength, durationMs: 0 }
    out.push({ kind: 'send-result', stimulusId: s, item })
    return true
  }

  /** A running task's own message: sent, or kept until the coordinator claims the orphan. */
  #toCoordinator(t: TaskRecord, out: WorkerInstruction[], instruction: WorkerInstruction): void {
    if (t.orphan) (t.deferred ??= []).push(instruction)
    else out.push(instruction)
  }

  /** Whether `t`'s report goes to the coordinator now (else it stays in the log only). */
  #reporting(t: TaskRecord): boolean {
    return !t.orphan && this.#state !== DaemonState.RECONNECTING
  }

  /**
   * A queued task is dropped and reported as aborted; a running one gets its abort signal and
   * reports however it ends. Either way the coordinator hears back, so it knows when the
   * process slot is free again.
   */
  #cancel(key: string, s: number, out: WorkerInstruction[]): void {
    this.#log.drop(key)
    this.#carried.delete(key)
    const t = this.#record(key)
    if (t === undefined) return
    if (t.orphan) {
      // Nobody claimed it after the outage: dropped without a report (none is expected).
      if (t.state === QUEUED) this.#drop(t, s, out)
      else if (t.state === RUNNING) {
        this.#transition(t, 'abort', s)
        out.push({ kind: 'abort-task', stimulusId: s, id: t.id })
      }
      return
    }
    switch (t.state) {
      case QUEUED: {
        this.#drop(t, s, out)
        const error = serializeError(new AbortedError('the task was cancelled before it started'))
        out.push({ kind: 'send-error', stimulusId: s, item: { key, error, durationMs: 0 } })
        return
      }
      case RUNNING:
        this.#transition(t, 'abort', s)
        out.push({ kind: 'abort-task', stimulusId: s, id: t.id })
        return
      case CANCELLING: // its abort signal fired already
        return
      case DONE:
      case RELEASED:
        throw new InvalidStateError(`worker: task ${key} is ${t.state} but still recorded`)
    }
  }

  /**
   * The coordinator is gone, perhaps only for a restart: everything goes on. Tasks keep running
   * (as orphans, whose reports go to the log), held values stay, and the next `hello` carries
   * the inventory, from which a restarted coordinator re-adopts them. What nobody claims is
   * dropped when the coordinator says so (`cancel`, `release`) after its grace period.
   */
  #onLost(s: number, out: WorkerInstruction[]): void {
    if (this.#state !== DaemonState.RUNNING) return
    for (const t of this.#tasks.values()) t.orphan = true
    this.#move('lose', s)
    out.push({ kind: 'reconnect', stimulusId: s })
  }

  /** Stops taking tasks and hands back those not started; the running ones finish. */
  #drain(s: number, out: WorkerInstruction[]): void {
    const state = this.#state
    if (state === DaemonState.DRAINING || state === DaemonState.STOPPED) return
    if (state === DaemonState.FAILED) return
    this.#move('drain', s)
    const returned: string[] = []
    for (const t of this.#tasks.values()) {
      if (t.state !== QUEUED) continue
      this.#drop(t, s, out)
      returned.push(t.key)
    }
    if (state !== DaemonState.RUNNING) return
    out.push({ kind: 'send', stimulusId: s, message: { kind: 'leaving', returned } })
    out.push({ kind: 'flush', stimulusId: s })
  }

  /** Holds `value` under `key`; a spilled value it replaces has its file removed. */
  #keep(key: string, value: Uint8Array, s: number, out: WorkerInstruction[]): void {
    const spilled = this.#held.hold(key, value)
    if (spilled !== undefined)
      out.push({ kind: 'forget-spilled', stimulusId: s, files: [[key, spilled]] })
  }

  #record(key: string): TaskRecord | undefined {
    const id = this.#ids.get(key)
    return id === undefined ? undefined : this.#tasks.get(id)
  }

  /** Takes a queued task out of the pool and forgets it. */
  #drop(t: TaskRecord, s: number, out: WorkerInstruction[]): void {
    this.#transition(t, 'drop', s)
    this.#forget(t)
    out.push({ kind: 'drop-task', stimulusId: s, id: t.id })
  }

  #finish(t: TaskRecord, s: number): void {
    this.#transition(t, 'finish', s)
    this.#forget(t)
  }

  #forget(t: TaskRecord): void {
    this.#tasks.delete(t.id)
    this.#ids.delete(t.key)
  }

  /** Moves a task along a named transition; throws on an illegal move. */
  #transition(t: TaskRecord, name: WorkerTaskTransition, s: number): void {
    try {
      t.state = nextState(WORKER_TASK_TRANSITIONS, name, t.state, 'worker: task', t.key)
    } catch (error) {
      throw withStimulus(error, s)
    }
  }

  /** Moves the daemon along a named transition; throws on an illegal move. */
  #move(name: DaemonTransition, s: number): void {
    try {
      this.#state = nextState(DAEMON_TRANSITIONS, name, this.#state, 'worker:')
    } catch (error) {
      throw withStimulus(error, s)
    }
  }
}

/** The error of an illegal move, saying which stimulus caused it (built only when it is thrown). */
function withStimulus(error: unknown, stimulus: number): unknown {
  if (!(error instanceof InvalidStateError)) return error
  return new InvalidStateError(`${error.message} (stimulus ${stimulus})`, { cause: error })
}
