import { nextState, type SerializedError } from '@clusterpool/protocol'

import type { ToChild } from '../messages.js'
import { ToChildKind } from '../messages.js'
import type { ChildLoad } from './dispatch.js'
import type { PoolEntry } from './pool-entry.js'
import type { ChildHandle } from './child-handle.js'

/**
 * One child process or thread, as the pool tracks it.
 *
 * ```
 *  spawn ──► active ──retire (ran maxTasksPerChild)──► retiring ──stop (nothing in flight)──► stopping ──exit──► exited
 *              └──stop (idle too long, or closing, nothing in flight: STOP sent)──────────────►┘
 *  active | retiring | stopping ──kill (head task timed out, or force close)──► killed ──exit──► exited
 *  active | retiring | stopping | killed ──exit (crash)──► exited
 * ```
 *
 * Moves go through `CHILD_TRANSITIONS`, which throws on an illegal one.
 *
 * Only `active` children take tasks; `active` and `retiring` ones count against `maxWorkers`,
 * except one whose every task waits (`saturated`): it frees no slot before a wait ends, so the
 * pool may start another child beside it.
 *
 * A task that awaits its executor's futures leaves `inFlight` for `waiting` (SECEDE), and the
 * child takes its next task; when the wait ends it is `rejoined` (REJOIN) and runs again, and the
 * child takes nothing new until it is done.
 */
export const ChildState = {
  ACTIVE: 'active',
  RETIRING: 'retiring',
  STOPPING: 'stopping',
  KILLED: 'killed',
  EXITED: 'exited',
} as const
export type ChildState = (typeof ChildState)[keyof typeof ChildState]

const { ACTIVE, RETIRING, STOPPING, KILLED, EXITED } = ChildState

/** Every legal move of a child: name → allowed sources and the target. */
export const CHILD_TRANSITIONS = {
  /** It ran `maxTasksPerChild`: it takes no more and stops once idle. */
  retire: { from: [ACTIVE], to: RETIRING },
  /** STOP sent: it finishes what it holds and exits. */
  stop: { from: [ACTIVE, RETIRING], to: STOPPING },
  kill: { from: [ACTIVE, RETIRING, STOPPING], to: KILLED },
  exit: { from: [ACTIVE, RETIRING, STOPPING, KILLED], to: EXITED },
} as const satisfies Record<string, { from: readonly ChildState[]; to: ChildState }>

export type ChildTransition = keyof typeof CHILD_TRANSITIONS

/** What a child said about its own end, just before it. */
export type ChildReport =
  | {
      readonly kind: 'fatal'
      readonly runningId: number | null
      readonly error: SerializedError
      readonly origin: string
    }
  | { readonly kind: 'exiting'; readonly runningId: number | null; readonly code: number }

/** Function definitions a child keeps; past this the least recently used idle one is dropped. */
const MAX_FUNCTIONS_PER_CHILD = 256

export class ChildSlot {
  readonly handle: ChildHandle
  #state: ChildState = ACTIVE
  /** Tasks handed over and not finished, in the order the child runs them. */
  inFlight: PoolEntry[] = []
  /** Started tasks that wait for their executors' futures: they hold no slot. */
  readonly waiting = new Set<PoolEntry>()
  /** Tasks whose wait ended: they run again, beside the head if there is one. */
  readonly rejoined = new Set<PoolEntry>()
  /** When the head task started (as far as the parent can tell), `performance.now()`. */
  headStartedAt = 0
  /** When the child last became idle, `performance.now()`. */
  idleSince = performance.now()
  dispatched = 0
  completed = 0
  report: ChildReport | undefined
  /** Why the pool killed it on request (`TaskPool.restartChildren`), for its tasks' errors. */
  killReason: string | undefined
  /** A RECLAIM is on its way; no other is sent until RETURNED answers it. */
  reclaiming = false
  #unknownInFlight = 0
  #estimatedMs = 0
  #outbox: ToChild[] = []
  /** Function ids defined in the child, least recently used first. */
  readonly #fns = new Map<number, true>()
  #lastFnId = -1
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity
  #deadline = Infinity
  readonly #onHeadTimeout: (child: ChildSlot) => void

  constructor(start: (child: ChildSlot) => ChildHandle, onHeadTimeout: (child: ChildSlot) => void) {
    this.#onHeadTimeout = onHeadTimeout
    this.handle = start(this)
  }

  get state(): ChildState {
    return this.#state
  }

  load(now: number): ChildLoad {
    const head = this.inFlight[0]
    let overrunMs = 0
    if (head !== undefined && !Number.isNaN(head.estimateMs)) {
      overrunMs = Math.max(0, now - this.headStartedAt - head.estimateMs)
    }
    return {
      inFlight: this.inFlight.length + this.rejoined.size,
      unknownInFlight: this.#unknownInFlight,
      estimatedMs: this.#estimatedMs,
      headEstimateMs: head === undefined ? NaN : head.estimateMs,
      overrunMs,
    }
  }

  /** Hands a task over: queued to be sent with the next flush. */
  add(entry: PoolEntry, now: number): void {
    entry.estimateMs = entry.fn.estimateMs
    if (Number.isNaN(entry.estimateMs)) this.#unknownInFlight++
    else this.#estimatedMs += entry.estimateMs
    this.inFlight.push(entry)
    this.dispatched++
    if (this.inFlight.length === 1) this.#headChanged(now)
    const fnId = entry.fn.id
    if (fnId !== this.#lastFnId) {
      if (this.#fns.delete(fnId)) this.#fns.set(fnId, true)
      else this.#define(entry)
      this.#lastFnId = fnId
    }
    this.#outbox.push([
      ToChildKind.RUN,
      entry.id,
      fnId,
      entry.args,
      entry.attempt,
      entry.chunk ? 1 : 0,
    ])
  }

  /** Whether the child holds `entry` (in its queue, running, waiting or rejoined). */
  holds(entry: PoolEntry): boolean {
    return this.waiting.has(entry) || this.rejoined.has(entry) || this.inFlight.includes(entry)
  }

  /** It holds no task at all. */
  idle(): boolean {
    return this.inFlight.length === 0 && this.waiting.size === 0 && this.rejoined.size === 0
  }

  /** No slot free and none to come before a wait ends: every task it holds waits, `cap` of them. */
  saturated(cap: number): boolean {
    return this.inFlight.length === 0 && this.rejoined.size === 0 && this.waiting.size >= cap
  }

  /** Whether the child may take a task now without anything else to weigh: it runs none. */
  free(cap: number): boolean {
    return (
      this.#state === ACTIVE &&
      this.inFlight.length === 0 &&
      this.rejoined.size === 0 &&
      this.waiting.size < cap
    )
  }

  /** SECEDE: the task waits; its slot is free. False if the child does not hold it running. */
  secede(entry: PoolEntry, now: number): boolean {
    if (this.rejoined.delete(entry)) {
      this.waiting.add(entry)
      return true
    }
    const i = this.inFlight.indexOf(entry)
    if (i < 0) return false
    const wasHead = i === 0
    this.inFlight.splice(i, 1)
    this.#uncount(entry)
    this.waiting.add(entry)
    if (this.inFlight.length === 0) this.#estimatedMs = 0
    if (wasHead) this.#headChanged(now)
    return true
  }

  /** REJOIN: the task's wait ended and it runs again. False if it was not waiting here. */
  rejoin(entry: PoolEntry): boolean {
    if (!this.waiting.delete(entry)) return false
    this.rejoined.add(entry)
    return true
  }

  /** Takes a finished task out; returns false if the child did not hold it. */
  remove(entry: PoolEntry, now: number): boolean {
    if (
      (this.waiting.size > 0 || this.rejoined.size > 0) &&
      (this.waiting.delete(entry) || this.rejoined.delete(entry))
    ) {
      this.completed++
      if (this.inFlight.length === 0 && this.waiting.size === 0 && this.rejoined.size === 0)
        this.idleSince = now
      return true
    }
    const wasHead = this.inFlight[0] === entry
    if (wasHead) this.inFlight.shift()
    else {
      const i = this.inFlight.indexOf(entry)
      if (i < 0) return false
      this.inFlight.splice(i, 1)
    }
    this.#uncount(entry)
    this.completed++
    if (this.inFlight.length === 0) {
      this.idleSince = now
      this.#estimatedMs = 0 // no drift from float sums
    }
    if (wasHead) this.#headChanged(now)
    return true
  }

  /** Asks the child to give back the tasks it has not started. */
  reclaim(): void {
    this.reclaiming = true
    this.#outbox.push([ToChildKind.RECLAIM])
  }

  /** The child gave these tasks back: they leave its queue without having run. */
  giveBack(entries: readonly PoolEntry[], now: number): void {
    this.reclaiming = false
    for (const entry of entries) {
      const wasHead = this.inFlight[0] === entry
      const i = this.inFlight.indexOf(entry)
      if (i < 0) continue
      this.inFlight.splice(i, 1)
      this.#uncount(entry)
      if (wasHead) this.#headChanged(now)
    }
    if (this.inFlight.length === 0) this.idleSince = now
  }

  /** Takes the tasks that waited or rejoined (the child is gone or going): all had started. */
  takeStarted(): PoolEntry[] {
    const started = [...this.waiting, ...this.rejoined]
    this.waiting.clear()
    this.rejoined.clear()
    return started
  }

  /** Takes every task in its queue, head included (the child is gone or going). */
  takeAll(): PoolEntry[] {
    const all = this.inFlight
    this.inFlight = []
    this.#unknownInFlight = 0
    this.#estimatedMs = 0
    this.#clearTimer()
    return all
  }

  abort(taskId: number): void {
    this.#outbox.push([ToChildKind.ABORT, taskId])
  }

  /** A frame for a task's executor, sent with the next flush. */
  nested(taskId: number, payload: Uint8Array): void {
    this.#outbox.push([ToChildKind.NESTED, taskId, payload])
  }

  /** It takes no more tasks; the pool stops it once what it holds is done. */
  retire(): void {
    this.#transition('retire')
  }

  /** Asks the child to finish what it holds and exit. */
  stop(): void {
    this.#transition('stop')
    this.#outbox.push([ToChildKind.STOP])
  }

  /** Ends the child now; the pool has already dealt with its tasks. */
  kill(): void {
    this.#transition('kill')
    this.#clearTimer()
    this.#outbox = []
    this.handle.kill()
  }

  exited(): void {
    this.#transition('exit')
    this.#clearTimer()
    this.#outbox = []
  }

  /** Sends what is queued for the child as one batch; returns whether anything was sent. */
  flush(): boolean {
    if (this.#outbox.length === 0) return false
    const batch = this.#outbox
    this.#outbox = []
    this.handle.send(batch)
    return true
  }

  /** Moves the child along a named transition; throws on an illegal move (a pool bug). */
  #transition(name: ChildTransition): void {
    this.#state = nextState(CHILD_TRANSITIONS, name, this.#state, 'child', this.handle.pid ?? '?')
  }

  #define(entry: PoolEntry): void {
    this.#outbox.push([ToChildKind.DEFINE, entry.fn.id, entry.fn.ref])
    this.#fns.set(entry.fn.id, true)
    if (this.#fns.size <= MAX_FUNCTIONS_PER_CHILD) return
    const busy = new Set(this.inFlight.map((e) => e.fn.id))
    for (const id of this.#fns.keys()) {
      if (busy.has(id)) continue
      this.#fns.delete(id)
      this.#outbox.push([ToChildKind.FORGET, id])
      return
    }
  }

  #uncount(entry: PoolEntry): void {
    if (Number.isNaN(entry.estimateMs)) this.#unknownInFlight--
    else this.#estimatedMs -= entry.estimateMs
  }

  /** A new head task starts: arm its timeout, if it has one, on the child's single timer. */
  #headChanged(now: number): void {
    this.headStartedAt = now
    const head = this.inFlight[0]
    if (head !== undefined && Number.isNaN(head.startedAt)) head.startedAt = now
    this.#deadline = head?.timeoutMs === undefined ? Infinity : now + head.timeoutMs
    if (this.#deadline === Infinity || this.#deadline >= this.#timerAt) return
    this.#armTimer(now)
  }

  #armTimer(now: number): void {
    this.#clearTimer()
    this.#timerAt = this.#deadline
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, Math.ceil(this.#deadline - now)))
    this.#timer.unref()
  }

  #onTimer(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    if (this.#deadline === Infinity) return
    const now = performance.now()
    if (now + 0.5 >= this.#deadline) this.#onHeadTimeout(this)
    else this.#armTimer(now)
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
  }
}
