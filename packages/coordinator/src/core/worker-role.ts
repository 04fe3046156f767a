import {
  fnLabel,
  PROTOCOL_VERSION,
  type SerializedError,
  type WorkerErrorItem,
  type WorkerHello,
  type WorkerResultItem,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'

import type { ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'
import type { RelayedAssigns } from './relayed-assigns.js'
import { WorkerSession } from './sessions.js'

/**
 * The coordinator's side of a worker connection: heartbeats, `results`, `errors`,
 * `stealReply`, `data` and `leaving` come in and become scheduler events, client-task value
 * changes (`ClientTask`) and relay answers. The caller applies the scheduler's decisions after
 * each batch.
 */
export class WorkerRole {
  readonly #s: CoreState
  readonly #assigns: RelayedAssigns
  #next = 0

  constructor(s: CoreState, assigns: RelayedAssigns) {
    this.#s = s
    this.#assigns = assigns
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
    return session
  }

  /** Handles a batch of the worker's messages; false if it broke the protocol and was closed. */
  handle(worker: WorkerSession, messages: readonly WorkerToCoordinator[]): boolean {
    const s = this.#s
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
          for (const r of m.items) this.#result(worker, r, now)
          break
        case 'errors':
          for (const e of m.items) this.#error(worker, e, now)
          break
        case 'stealReply':
          for (const key of m.given) s.scheduler.stealReply(key, worker.id, true, now)
          for (const key of m.kept) s.scheduler.stealReply(key, worker.id, false, now)
          break
        case 'data':
          s.relay.onData(worker.id, m.items, m.missing)
          break
        case 'leaving':
          worker.state = 'leaving'
          s.scheduler.pauseWorker(worker.id, now)
          for (const key of m.returned) s.scheduler.taskDropped(key, worker.id, now)
          s.log.info(
            { worker: worker.id, returned: m.returned.length },
            'worker leaving; its queued tasks go elsewhere',
          )
          break
        case 'hello':
          worker.link.close(4400, 'hello was already received')
          return false
      }
    }
    return true
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
    s.scheduler.removeWorker(worker.id, performance.now())
    return true
  }

  #result(worker: WorkerSession, r: WorkerResultItem, now: number): void {
    const s = this.#s
    const task = s.tasks.get(r.key)
    if (task) {
      // Taken as the value once the scheduler accepts a result (`memory`): see `ValueState`.
      if (r.value === undefined) {
        if (task.valueState === 'none') task.hold()
      } else if (task.valueState !== 'inline') {
        task.arrive(r.value)
      }
      this.#taskEnded(task, worker, r.durationMs, undefined)
    }
    s.metrics?.taskDuration.observe(r.durationMs / 1000)
    s.scheduler.taskFinished(r.key, worker.id, { durationMs: r.durationMs, nbytes: r.size }, now)
  }

  #error(worker: WorkerSession, e: WorkerErrorItem, now: number): void {
    const s = this.#s
    const task = s.tasks.get(e.key)
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
