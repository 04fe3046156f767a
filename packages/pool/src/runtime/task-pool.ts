import type { SerializedError } from '@clusterpool/protocol'
import {
  ExecutorShutdownError,
  InvalidOptionError,
  InvalidStateError,
  TaskTimeoutError,
  serializeError,
} from '@clusterpool/protocol'

import type { ToParent } from '../messages.js'
import { ToParentKind } from '../messages.js'
import type { ResolvedPoolOptions, TaskPoolOptions } from '../options.js'
import { resolvePoolOptions } from '../options.js'
import type { PoolEvents, PoolTask, TaskPoolStats } from '../types.js'
import { ChildSlot } from './child-slot.js'
import { emitSafely, rethrowLater } from './emit.js'
import {
  abortedQueuedError,
  forceClosedQueuedError,
  forceClosedRunningError,
  sortOrphans,
  workerDiedError,
} from './death.js'
import { DispatchLimits, canAccept, loadScore, shouldReclaim } from './dispatch.js'
import { FnRegistry } from './fn-registry.js'
import { ProcessChild } from './process-child.js'
import type { PoolEntry } from './pool-entry.js'
import { createPoolEntry } from './pool-entry.js'
import { PoolQueue } from './pool-queue.js'
import { ThreadChild } from './thread-child.js'
import { PoolState, nextPoolState, type PoolTransition } from './pool-state.js'
import { kPoolInternals, type PoolInternals } from './pool-internals.js'
import { TASK_SETUP_ENV } from '../setup-env.js'
import type { ChildExit, ChildHandle } from './child-handle.js'

const { OPEN, CLOSING, FORCED_CLOSING } = PoolState

/**
 * A pool of child processes or worker threads running tasks: the engine under local executors
 * and every worker daemon.
 *
 * Children start lazily, up to `maxWorkers`, and stay warm. Each runs one task at a time, in
 * the order handed to it. Functions never measured go one per child; fast ones go in batches
 * (see `dispatch.ts`). All messages for a child in one tick leave as one batch.
 *
 * Its states are drawn at `PoolState`.
 */
export class TaskPool {
  readonly #options: ResolvedPoolOptions
  readonly #events: PoolEvents
  readonly #fns = new FnRegistry()
  readonly #queue = new PoolQueue()
  readonly #tasks = new Map<number, PoolEntry>()
  readonly #children = new Set<ChildSlot>()
  #inFlight = 0
  /** Of those, how many wait for their executors' futures (seceded, not rejoined). */
  #waiting = 0
  #completed = 0
  #failed = 0
  #pumpScheduled = false
  #lastPump = -Infinity
  #refed = true
  #state: PoolState = OPEN
  #closed: Promise<void> | undefined
  #resolveClosed: (() => void) | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #rebalanceTimer: NodeJS.Timeout | undefined
  #batchesSent = 0
  #batchesReceived = 0
  #spawned = 0

  /** The children's added environment: the pool's `env`, and its setup modules. */
  readonly #childEnv: Readonly<Record<string, string>> | undefined

  constructor(options: TaskPoolOptions, events: PoolEvents) {
    this.#options = resolvePoolOptions(options)
    const { env, setupModules } = this.#options
    this.#childEnv =
      setupModules.length === 0 ? env : { ...env, [TASK_SETUP_ENV]: JSON.stringify(setupModules) }
    for (const name of ['onStart', 'onResult', 'onError'] as const) {
      if (typeof (events as unknown as Record<string, unknown> | null)?.[name] !== 'function') {
        throw new InvalidOptionError(`events.${name} must be a function`)
      }
    }
    this.#events = events
  }

  submit(task: PoolTask): void {
    if (this.#state !== OPEN) {
      throw new ExecutorShutdownError('cannot submit tasks to a TaskPool after close()')
    }
    if (this.#tasks.has(task.id)) {
      throw new InvalidStateError(`task ${task.id} is already in the pool`)
    }
    const entry = createPoolEntry(task, this.#fns, this.#options.taskTimeoutMs)
    this.#tasks.set(entry.id, entry)
    this.#queue.push(entry, task.urgent === true)
    this.#schedulePump()
  }

  cancel(id: number): boolean {
    const entry = this.#tasks.get(id)
    if (entry === undefined || entry.state !== 'queued' || entry.started) return false
    this.#queue.remove(entry)
    this.#tasks.delete(id)
    this.#schedulePump()
    return true
  }

  abort(id: number): void {
    const entry = this.#tasks.get(id)
    if (entry === undefined || entry.abortRequested) return
    entry.abortRequested = true
    if (entry.state === 'queued') {
      this.#queue.remove(entry)
      this.#fail(entry, abortedQueuedError(entry))
    } else if (entry.state === 'in-flight') {
      for (const child of this.#children) {
        if (child.holds(entry)) child.abort(id)
      }
    }
    this.#schedulePump()
  }

  /**
   * Kills every child now; their running tasks fail with a `WorkerDiedError` naming `reason`,
   * the tasks waiting in them go back to the queue, and new children start for what is queued.
   * Returns how many were killed.
   */
  restartChildren(reason: string): number {
    let n = 0
    for (const child of this.#children) {
      if (child.state === 'exited' || child.state === 'killed') continue
      child.killReason = reason
      child.kill()
      n++
    }
    return n
  }

  get state(): PoolState {
    return this.#state
  }

  /** Process ids of the child processes alive now (to sample CPU and memory); [] for threads. */
  childPids(): number[] {
    const pids: number[] = []
    if (this.#options.kind !== 'process') return pids
    for (const child of this.#children) {
      const pid = child.handle.pid
      if (pid !== undefined) pids.push(pid)
    }
    return pids
  }

  get stats(): TaskPoolStats {
    return {
      queued: this.#queue.size,
      inFlight: this.#inFlight,
      waiting: this.#waiting,
      workers: this.#children.size,
      completed: this.#completed,
      failed: this.#failed,
    }
  }

  close(options?: { force?: boolean }): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    const force = options?.force === true
    if (force && (this.#state === OPEN || this.#state === CLOSING)) this.#forceClose()
    else if (this.#state === OPEN) this.#transition('close')
    this.#schedulePump()
    return this.#closed
  }

  [kPoolInternals](): PoolInternals {
    return {
      batchesSent: this.#batchesSent,
      batchesReceived: this.#batchesReceived,
      spawned: this.#spawned,
      children: [...this.#children].map((c) => ({
        pid: c.handle.pid,
        threadId: c.handle.threadId,
      })),
      estimates: new Map([...this.#fns.all()].map((f) => [f.label, f.estimateMs])),
    }
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    // Idle: pump at the end of this task, for latency; busy: on the loop's next turn, so more
    // tasks share each child's batch.
    if (performance.now() - this.#lastPump < 0.25) setImmediate(() => this.#pump())
    else queueMicrotask(() => this.#pump())
  }

  /** Hands queued tasks to children, sends each child its batch, and tidies up. */
  #pump(): void {
    this.#pumpScheduled = false
    this.#lastPump = performance.now()
    const now = performance.now()
    for (const child of this.#children) {
      // A retired child's replacement may start in this very pump.
      if (child.state === 'retiring' && child.idle()) child.stop()
    }
    for (let entry = this.#queue.peek(); entry !== undefined; entry = this.#queue.peek()) {
      const child = this.#pickChild(entry, now)
      if (child === undefined) break
      this.#queue.shift()
      this.#dispatch(entry, child, now)
    }
    const drained = this.#state !== OPEN && this.#queue.size === 0
    for (const child of this.#children) {
      if (drained && child.state === 'active' && child.idle()) child.stop()
      if (child.flush()) this.#batchesSent++
    }
    this.#updateRef()
    this.#updateIdleTimer()
    this.#updateRebalanceTimer()
    this.#checkClosed()
  }

  #pickChild(entry: PoolEntry, now: number): ChildSlot | undefined {
    const cap = this.#options.maxWaitingPerChild
    let live = 0
    let hosting: ChildSlot | undefined
    for (const child of this.#children) {
      if (child.free(cap)) {
        if (child.waiting.size === 0) return child
        hosting ??= child
      }
      // A child whose every task waits frees no slot before a wait ends: it does not count.
      if ((child.state === 'active' || child.state === 'retiring') && !child.saturated(cap)) live++
    }
    // A free slot beside waiting tasks is taken only when no other child is free or can be
    // started: a task that crashes its process takes the tasks waiting there with it.
    if (live < this.#options.maxWorkers && this.#state !== FORCED_CLOSING) return this.#spawn()
    if (hosting !== undefined) return hosting
    let best: ChildSlot | undefined
    let bestScore = Infinity
    for (const child of this.#children) {
      if (child.state !== 'active' || child.waiting.size >= cap) continue
      const load = child.load(now)
      if (!canAccept(load, entry.fn.estimateMs)) continue
      const score = loadScore(load)
      if (best === undefined || score < bestScore) {
        best = child
        bestScore = score
      }
    }
    return best
  }

  #dispatch(entry: PoolEntry, child: ChildSlot, now: number): void {
    entry.state = 'in-flight'
    this.#inFlight++
    child.add(entry, now)
    if (child.dispatched >= this.#options.maxTasksPerChild) child.retire()
    if (!entry.started) {
      entry.started = true
      try {
        this.#events.onStart(entry.id)
      } catch (error) {
        rethrowLater(error)
      }
    }
  }

  #spawn(): ChildSlot {
    const { kind, execArgv, memoryLimitMb, rssShareFile } = this.#options
    const env = this.#childEnv
    const child = new ChildSlot(
      (slot): ChildHandle => {
        const events = {
          onMessages: (messages: ToParent[]) => this.#onMessages(slot, messages),
          onExit: (exit: ChildExit) => this.#onExit(slot, exit),
        }
        const options = { execArgv, env, memoryLimitMb, rssShareFile }
        return kind === 'process'
          ? new ProcessChild(options, events)
          : new ThreadChild(options, events)
      },
      (slot) => this.#onHeadTimeout(slot),
    )
    if (!this.#refed) child.handle.setRef(false)
    this.#children.add(child)
    this.#spawned++
    return child
  }

  #onMessages(child: ChildSlot, messages: ToParent[]): void {
    this.#batchesReceived++
    const now = performance.now()
    for (const m of messages) {
      switch (m[0]) {
        case ToParentKind.RESULT: {
          const entry = this.#takeFinished(child, m[1], m[3], now)
          if (entry === undefined) break
          this.#completed++
          try {
            this.#events.onResult(entry.id, m[2], Math.max(0, m[3]) / 1000)
          } catch (error) {
            rethrowLater(error)
          }
          break
        }
        case ToParentKind.ERROR: {
          const entry = this.#takeFinished(child, m[1], m[3], now)
          if (entry === undefined) break
          this.#failed++
          emitSafely(() => this.#events.onError(entry.id, m[2], Math.max(0, m[3]) / 1000))
          break
        }
        case ToParentKind.FATAL:
          child.report = { kind: 'fatal', runningId: m[1], error: m[2], origin: m[3] }
          break
        case ToParentKind.EXITING:
          child.report ??= { kind: 'exiting', runningId: m[1], code: m[2] }
          break
        case ToParentKind.NESTED: {
          const entry = this.#tasks.get(m[1])
          if (entry === undefined || !child.holds(entry)) break // over: its last words are moot
          emitSafely(() => this.#events.onNested?.(entry.id, m[2]))
          break
        }
        case ToParentKind.SECEDE: {
          const entry = this.#tasks.get(m[1])
          if (entry === undefined || !child.secede(entry, now)) break
          this.#waiting++
          this.#armWaitTimeout(entry, child)
          emitSafely(() => this.#events.onSecede?.(entry.id))
          break
        }
        case ToParentKind.REJOIN: {
          const entry = this.#tasks.get(m[1])
          if (entry === undefined || !child.rejoin(entry)) break
          this.#waiting--
          emitSafely(() => this.#events.onRejoin?.(entry.id))
          break
        }
        case ToParentKind.RETURNED: {
          const entries = m[1]
            .map((id) => this.#tasks.get(id))
            .filter((e): e is PoolEntry => e !== undefined && child.inFlight.includes(e))
          child.giveBack(entries, now)
          this.#inFlight -= entries.length
          this.#requeue(entries)
          break
        }
      }
    }
    this.#schedulePump()
  }

  /** The task `id` finished in `child`: take it out of the pool. */
  #takeFinished(
    child: ChildSlot,
    id: number,
    durationUs: number,
    now: number,
  ): PoolEntry | undefined {
    const entry = this.#tasks.get(id)
    if (entry === undefined || entry.state !== 'in-flight') return undefined
    const waited = child.waiting.size > 0 && child.waiting.has(entry)
    if (!child.remove(entry, now)) {
      return undefined // finished already (timed out, force-closed) or never ours
    }
    if (waited) this.#waiting--
    if (entry.waitTimer !== undefined) clearTimeout(entry.waitTimer)
    entry.waitTimer = undefined
    if (durationUs >= 0) FnRegistry.record(entry.fn, durationUs / 1000)
    entry.state = 'finished'
    this.#tasks.delete(id)
    this.#inFlight--
    return entry
  }

  #onHeadTimeout(child: ChildSlot): void {
    const head = child.inFlight[0]
    if (head === undefined || child.state === 'killed' || child.state === 'exited') return
    FnRegistry.record(head.fn, performance.now() - child.headStartedAt)
    const rest = child.takeAll().slice(1)
    this.#inFlight -= rest.length + 1
    child.kill()
    this.#fail(head, new TaskTimeoutError(head.timeoutMs ?? 0))
    this.#requeue(rest)
    this.#schedulePump()
  }

  #onExit(child: ChildSlot, exit: ChildExit): void {
    child.exited()
    this.#children.delete(child)
    const waited = child.waiting.size
    const started = child.takeStarted()
    this.#waiting -= waited
    const entries = child.takeAll()
    this.#inFlight -= entries.length + started.length
    const { lost, culprit, requeue } = sortOrphans(entries, child.report, child.completed > 0)
    const { kind, memoryLimitMb } = this.#options
    const death = { kind, exit, report: child.report, memoryLimitMb, killReason: child.killReason }
    for (const e of started) this.#fail(e, workerDiedError(death, e))
    for (const e of lost) this.#fail(e, workerDiedError(death, e, false))
    if (culprit !== undefined) this.#fail(culprit, workerDiedError(death, culprit))
    this.#requeue(requeue)
    this.#schedulePump()
  }

  /** Puts tasks that never started back at the front of the queue. */
  #requeue(entries: readonly PoolEntry[]): void {
    const back: PoolEntry[] = []
    for (const e of entries) {
      if (e.abortRequested) this.#fail(e, abortedQueuedError(e))
      else {
        e.state = 'queued'
        back.push(e)
      }
    }
    this.#queue.pushFront(back)
  }

  #forceClose(): void {
    this.#transition('force-close')
    for (const entry of this.#queue.drain()) this.#fail(entry, forceClosedQueuedError(entry))
    for (const child of this.#children) {
      // Killed already (its head task timed out): its tasks were dealt with then.
      if (child.state === 'exited' || child.state === 'killed') continue
      this.#waiting -= child.waiting.size
      const started = child.takeStarted()
      const entries = child.takeAll()
      this.#inFlight -= entries.length + started.length
      child.kill()
      for (const e of started) this.#fail(e, forceClosedRunningError(this.#options.kind, e))
      entries.forEach((e, i) => {
        const error =
          i === 0 ? forceClosedRunningError(this.#options.kind, e) : forceClosedQueuedError(e)
        this.#fail(e, error)
      })
    }
  }

  /**
   * The deadline of a task that left its child's queue to wait for its executor's futures, with
   * a `timeoutMs` (counted from its start, waits included). When it passes:
   * - still waiting: the task fails with `TaskTimeoutError` and sees its abort signal; its child
   *   runs other tasks, so it is not killed, and a result the task still sends is ignored;
   * - running again (rejoined): it may be stuck in its own code, so its child is killed, as for
   *   a head task that overruns; the other tasks there end as in any crash.
   */
  #armWaitTimeout(entry: PoolEntry, child: ChildSlot): void {
    if (entry.timeoutMs === undefined || entry.waitTimer !== undefined) return
    const elapsed = Number.isNaN(entry.startedAt) ? 0 : performance.now() - entry.startedAt
    entry.waitTimer = setTimeout(
      () => {
        entry.waitTimer = undefined
        const now = performance.now()
        const waited = child.waiting.has(entry)
        if (entry.state !== 'in-flight' || !child.remove(entry, now)) return
        if (waited) this.#waiting--
        this.#inFlight--
        FnRegistry.record(entry.fn, now - entry.startedAt)
        this.#fail(entry, new TaskTimeoutError(entry.timeoutMs ?? 0))
        if (waited) child.abort(entry.id)
        else if (child.state !== 'killed' && child.state !== 'exited') child.kill()
        this.#schedulePump()
      },
      Math.max(1, Math.ceil((entry.timeoutMs ?? 0) - elapsed)),
    )
    entry.waitTimer.unref()
  }

  /** Sends a frame to a running task's executor; dropped if the task is over. */
  sendNested(id: number, payload: Uint8Array): void {
    const entry = this.#tasks.get(id)
    if (entry === undefined || entry.state !== 'in-flight') return
    for (const child of this.#children) {
      if (child.state === 'exited' || child.state === 'killed' || !child.holds(entry)) continue
      child.nested(id, payload)
      this.#schedulePump()
      return
    }
  }

  /** Fails a task that is no longer queued or in flight anywhere. */
  #fail(entry: PoolEntry, error: Error): void {
    if (entry.waitTimer !== undefined) clearTimeout(entry.waitTimer)
    entry.waitTimer = undefined
    entry.state = 'finished'
    this.#tasks.delete(entry.id)
    this.#failed++
    const serialized: SerializedError = serializeError(error)
    emitSafely(() => this.#events.onError(entry.id, serialized, 0))
  }

  /** Children keep this process alive only while the pool has work (or is closing). */
  #updateRef(): void {
    const busy = this.#state !== OPEN || this.#queue.size > 0 || this.#inFlight > 0
    if (busy === this.#refed) return
    this.#refed = busy
    for (const child of this.#children) child.handle.setRef(busy)
  }

  #updateIdleTimer(): void {
    const idleTimeoutMs = this.#options.idleTimeoutMs
    if (idleTimeoutMs === undefined || this.#idleTimer !== undefined) return
    if (this.#state !== OPEN) return
    if (this.#children.size === 0) return
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined
      const now = performance.now()
      for (const child of this.#children) {
        if (child.state === 'active' && child.idle() && now - child.idleSince >= idleTimeoutMs) {
          child.stop()
        }
      }
      this.#schedulePump()
    }, idleTimeoutMs)
    this.#idleTimer.unref()
  }

  /**
   * While some child holds waiting tasks and another could take them, look every few ms for a
   * child whose running task has overrun its estimate, and take its waiting tasks back.
   */
  #updateRebalanceTimer(): void {
    if (this.#rebalanceTimer !== undefined || this.#state === FORCED_CLOSING) return
    let holding = false
    let live = 0
    let idle = false
    for (const child of this.#children) {
      if (child.state !== 'active' && child.state !== 'retiring') continue
      live++
      if (child.inFlight.length > 1 && !child.reclaiming) holding = true
      if (child.state === 'active' && child.inFlight.length === 0) idle = true
    }
    if (!holding || (!idle && live >= this.#options.maxWorkers)) return
    this.#rebalanceTimer = setTimeout(() => {
      this.#rebalanceTimer = undefined
      const now = performance.now()
      for (const child of this.#children) {
        if (child.state !== 'active' && child.state !== 'retiring') continue
        if (!child.reclaiming && shouldReclaim(child.load(now))) child.reclaim()
      }
      this.#schedulePump()
    }, DispatchLimits.REBALANCE_INTERVAL_MS)
    this.#rebalanceTimer.unref()
  }

  #checkClosed(): void {
    if (this.#state !== CLOSING && this.#state !== FORCED_CLOSING) return
    if (this.#children.size > 0 || this.#queue.size > 0) return
    this.#transition('finish')
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    this.#resolveClosed?.()
  }

  /** Moves the pool along a named transition; throws on an illegal move (a pool bug). */
  #transition(name: PoolTransition): void {
    this.#state = nextPoolState(this.#state, name)
  }
}
