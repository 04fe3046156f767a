import {
  CloseCode,
  Direction,
  createDecoder,
  decodeFrame,
  fnLabel,
  PROTOCOL_VERSION,
  type NestedItem,
  type SerializedError,
  type WorkerErrorItem,
  type WorkerHello,
  type WorkerResultItem,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'

import { Reporter } from '../scheduler/scheduler.js'
import type { ClientRole } from './client-role.js'
import type { ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'
import type { RelayedAssigns } from './relayed-assigns.js'
import { WorkerSession } from './sessions.js'

/**
 * Reports the coordinator did not ask for that a worker may send before it is disconnected:
 * the next one closes it with `CloseCode.PROTOCOL` (4400). See `WorkerRole`.
 */
export const MAX_WORKER_VIOLATIONS = 10

/**
 * The coordinator's side of a worker connection: heartbeats, `results`, `errors`,
 * `stealReply`, `data` and `leaving` come in and become scheduler events, client-task value
 * changes (`ClientTask`) and relay answers. The caller applies the scheduler's decisions after
 * each batch.
 *
 * **Believe only what was assigned.** A result, an error or a held-size report is taken only
 * from the worker that holds the task's assignment now (`Scheduler.reporter`, one map lookup
 * and an id compare), which also refuses a late report after a steal; a `data` item is taken
 * only as the answer to a `fetch` the coordinator sent. A steal reply or a `leaving` list counts
 * only for the tasks the worker holds; a stale steal reply is dropped without a violation (an
 * honest worker may finish the task before it reads the steal). Anything else is a
 * protocol violation by that worker: it is logged (`ProtocolError`, with the worker and the
 * key), counted (`clusterpool_protocol_errors_total{reason="unassigned-report"}`) and dropped,
 * and nothing else changes. A worker that commits more than `MAX_WORKER_VIOLATIONS` is closed
 * with `CloseCode.PROTOCOL`: one late report is a bug, a stream of them is a liar, and its
 * tasks are better rescheduled elsewhere.
 */
export class WorkerRole {
  readonly #s: CoreState
  readonly #assigns: RelayedAssigns
  readonly #clients: ClientRole
  readonly #decoder = createDecoder()
  #next = 0

  constructor(s: CoreState, assigns: RelayedAssigns, clients: ClientRole) {
    this.#s = s
    this.#assigns = assigns
    this.#clients = clients
  }

  /** A worker passed its handshake: it gets an id and a `welcome`, and joins the scheduler. */
  join(link: WorkerSession['link'], hello: WorkerHello, remote: string): WorkerSession {
    const s = this.#s
    const id = `w${++this.#next}`
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
    s.workers.set(id, session)
    link.send({
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      workerId: id,
      heartbeatIntervalMs: s.options.heartbeatIntervalMs,
      maxPayload: s.options.maxPayload,
      holdResultsOverBytes: s.options.holdResultsOverBytes,
    })
    s.scheduler.addWorker(
      { id, name: hello.name, host: hello.host, procs: hello.procs, resources: hello.resources },
      performance.now(),
    )
    s.log.info(
      { worker: id, name: hello.name, host: hello.host, procs: hello.procs, remote },
      'worker joined',
    )
    if (hello.inventory) s.adoption.inventory(session, hello.inventory, performance.now())
    s.adoption.joined(performance.now())
    return session
  }

  /** Handles a batch of the worker's messages; false if it broke the protocol and was closed. */
  handle(worker: WorkerSession, messages: readonly WorkerToCoordinator[]): boolean {
    const s = this.#s
    // Messages behind a close (a heartbeat timeout): nothing it says counts any more.
    if (worker.state === 'gone') return false
    const now = performance.now()
    worker.lastHeartbeat = Date.now()
    for (const m of messages) {
      switch (m.kind) {
        case 'heartbeat':
          worker.cpu = m.cpu
          worker.memoryRss = m.memoryRss
          worker.heldBytes = m.heldBytes
          worker.memory = m.memory
          if (m.memory !== undefined && m.memory.limitBytes > 0)
            s.scheduler.workerMemory(worker.id, m.memory.rssBytes / m.memory.limitBytes)
          worker.running = m.running
          worker.queued = m.queued
          break
        case 'results':
          for (const r of m.items) {
            const reporter = this.#reporter(worker, r.key, 'results')
            if (reporter !== Reporter.STRANGER) this.#result(worker, r, reporter, now)
          }
          break
        case 'errors':
          for (const e of m.items) {
            const reporter = this.#reporter(worker, e.key, 'errors')
            if (reporter !== Reporter.STRANGER) this.#error(worker, e, reporter, now)
          }
          break
        case 'stealReply':
          // A reply may honestly come after the task ended or moved (the worker finished it
          // before it read the steal): only the holder's counts, and a stale one is no lie.
          for (const key of m.given)
            if (this.#holds(worker, key)) s.scheduler.stealReply(key, worker.id, true, now)
          for (const key of m.kept)
            if (this.#holds(worker, key)) s.scheduler.stealReply(key, worker.id, false, now)
          break
        case 'data': {
          const unasked = s.relay.onData(worker.id, m.items, m.missing)
          if (unasked !== undefined) for (const key of unasked) this.#violation(worker, key, 'data')
          break
        }
        case 'leaving':
          worker.state = 'leaving'
          s.scheduler.pauseWorker(worker.id, now)
          // Only tasks it holds: naming another worker's task must not move it.
          for (const key of m.returned)
            if (this.#holds(worker, key)) s.scheduler.taskDropped(key, worker.id, now)
          s.log.info(
            { worker: worker.id, returned: m.returned.length },
            'worker leaving; its queued tasks go elsewhere',
          )
          break
        case 'nested':
          for (const item of m.items) this.#nested(worker, item)
          break
        case 'seceded':
        case 'rejoined':
          for (const key of m.keys) {
            if (this.#holds(worker, key))
              s.scheduler.seceded(key, worker.id, m.kind === 'seceded', now)
            else if (s.scheduler.reporter(key, worker.id) !== Reporter.ZOMBIE)
              this.#violation(worker, key, m.kind)
          }
          break
        case 'memoryPause':
          this.#memoryPause(worker, m.paused, now)
          break
        case 'dataLost':
          // Only values the scheduler thinks it holds, and tasks it holds: another worker's
          // data or tasks are not this worker's to lose.
          for (const key of m.keys) s.scheduler.dataLost(key, worker.id, now)
          for (const key of m.returned)
            if (this.#holds(worker, key)) s.scheduler.taskDropped(key, worker.id, now)
          s.log.warn(
            { worker: worker.id, keys: m.keys.length, returned: m.returned.length },
            'worker lost held values (spill files unreadable); computing them again where possible',
          )
          break
        case 'hello':
          worker.link.close(4400, 'hello was already received')
          return false
      }
      // Closed for its violations: what came before still counts, the rest does not.
      if (worker.violations > MAX_WORKER_VIOLATIONS) return true
    }
    return true
  }

  /** Memory over the pause fraction: no new tasks, its queue may be stolen; back under target: resume. */
  #memoryPause(worker: WorkerSession, paused: boolean, now: number): void {
    const s = this.#s
    if (worker.memoryPaused === paused) return
    worker.memoryPaused = paused
    s.log.info({ worker: worker.id, name: worker.name, paused }, 'worker memory pause changed')
    if (paused) s.scheduler.pauseWorker(worker.id, now)
    // A leaving worker stays paused whatever its memory does.
    else if (worker.state === 'running') s.scheduler.resumeWorker(worker.id, now)
  }

  /**
   * A frame from the executor of a task running on `worker`: handled as that task's client
   * session's messages. Only the worker running the task may speak for it; a frame that does
   * not follow the client protocol is dropped (and counted) without touching anything else.
   */
  #nested(worker: WorkerSession, item: NestedItem): void {
    const s = this.#s
    const key = item.key
    if (!this.#holds(worker, key)) {
      // A zombie's executor (its task was dropped there) may still speak; it is not heard.
      if (s.scheduler.reporter(key, worker.id) !== Reporter.ZOMBIE)
        this.#violation(worker, key, 'nested')
      return
    }
    const session = s.nested.session(key, worker)
    if (session === undefined) return
    const decoded = decodeFrame(this.#decoder, item.payload, Direction.CLIENT_TO_COORDINATOR)
    if (!decoded.ok) {
      s.metrics?.protocolErrors.inc({ reason: 'nested-frame' })
      s.log.warn(
        { worker: worker.id, key, err: decoded.error.message },
        `ProtocolError: the executor of task ${key} sent a malformed frame; dropped`,
      )
      return
    }
    this.#clients.handle(session, decoded.messages)
  }

  /**
   * What `worker` is to the task `key` it reports on (`Scheduler.reporter`). A `STRANGER`'s
   * report is a violation, and the caller drops it.
   */
  #reporter(worker: WorkerSession, key: string, kind: string): Reporter {
    const reporter = this.#s.scheduler.reporter(key, worker.id)
    // An assign still waiting for relayed inputs was never sent: the worker cannot know it.
    if (
      reporter === Reporter.ZOMBIE ||
      (reporter === Reporter.HOLDER && !this.#assigns.has(key, worker.id))
    )
      return reporter
    this.#violation(worker, key, kind)
    return Reporter.STRANGER
  }

  /** The worker holds the task's assignment now, and was sent it (not waiting for inputs). */
  #holds(worker: WorkerSession, key: string): boolean {
    return (
      this.#s.scheduler.reporter(key, worker.id) === Reporter.HOLDER &&
      !this.#assigns.has(key, worker.id)
    )
  }

  /** A report the coordinator never asked for: logged, counted, dropped; too many close the worker. */
  #violation(worker: WorkerSession, key: string, kind: string): void {
    const s = this.#s
    if (worker.state === 'gone') return
    worker.violations++
    s.metrics?.protocolErrors.inc({ reason: 'unassigned-report' })
    s.log.warn(
      { worker: worker.id, name: worker.name, key, kind, violations: worker.violations },
      `ProtocolError: worker ${worker.id} sent ${kind} for ${key}, which it does not hold; dropped`,
    )
    if (worker.violations <= MAX_WORKER_VIOLATIONS) return
    s.log.warn(
      { worker: worker.id, name: worker.name, violations: worker.violations },
      'ProtocolError: worker closed for reporting on tasks it does not hold',
    )
    worker.link.close(CloseCode.PROTOCOL, 'reports on tasks this worker does not hold')
    // Its messages after this one no longer count; the close handler removes it.
    worker.state = 'gone'
  }

  /**
   * The worker's connection closed (or it missed its heartbeats): it leaves the scheduler, which
   * reschedules its unfinished tasks. False if it was gone already. The caller applies the
   * decisions, then tells the relay (`DataRelay.workerGone`).
   */
  closed(worker: WorkerSession): boolean {
    const s = this.#s
    if (!s.workers.delete(worker.id)) return false
    worker.state = 'gone'
    this.#assigns.workerGone(worker.id)
    s.nested.workerGone(worker.id)
    s.adoption.workerGone(worker.id)
    s.scheduler.removeWorker(worker.id, performance.now())
    return true
  }

  #result(worker: WorkerSession, r: WorkerResultItem, reporter: Reporter, now: number): void {
    const s = this.#s
    s.nested.runEnded(r.key, worker.id)
    // A zombie's answer frees its slot; its value is not the task's (the task was dropped there).
    const task = reporter === Reporter.HOLDER ? s.tasks.get(r.key) : undefined
    if (task) {
      // Taken as the value once the scheduler accepts a result (`memory`): see `ValueState`.
      if (r.value === undefined) {
        if (task.valueState === 'none') task.hold()
      } else if (task.valueState !== 'inline') {
        task.arrive(r.value)
      }
      this.#taskEnded(task, worker, r.durationMs, undefined)
    }
    s.metrics?.observeTaskDuration(r.durationMs / 1000)
    s.scheduler.taskFinished(r.key, worker.id, { durationMs: r.durationMs, nbytes: r.size }, now)
  }

  #error(worker: WorkerSession, e: WorkerErrorItem, reporter: Reporter, now: number): void {
    const s = this.#s
    s.nested.runEnded(e.key, worker.id)
    const task = reporter === Reporter.HOLDER ? s.tasks.get(e.key) : undefined
    if (task) {
      task.error = e.error
      this.#taskEnded(task, worker, e.durationMs, e.error)
    }
    // An aborted task ends here: an error it throws because of the abort is not retried.
    const final = task?.aborting === true
    s.scheduler.taskErred(e.key, worker.id, { durationMs: e.durationMs, final }, now)
  }

  #taskEnded(
    task: ClientTask,
    worker: WorkerSession,
    durationMs: number,
    error: SerializedError | undefined,
  ): void {
    const events = this.#s.events
    if (!events.listening('taskEnd')) return
    const endMs = Date.now()
    events.emitTaskEnd({
      fn: fnLabel(task.fn),
      workerId: worker.id,
      startMs: endMs - durationMs,
      endMs,
      ok: error === undefined,
      ...(error ? { error } : {}),
    })
  }
}
