import { nextState, type ClientToCoordinator } from '@clusterpool/protocol'

/**
 * A client's frames, handed to the core in slices, so that one client's burst cannot hold up
 * everyone else: a frame of 100,000 submits is a second of work, and workers' heartbeats and
 * results, other clients' frames and the periodic tick would all wait behind it.
 *
 * ```
 *   idle ──frames──▶ handling ──queue empty──▶ idle            (reading resumed, if it was paused)
 *                      │  ▲
 *          budget spent│  │next turn of the event loop
 *       (reading paused)▼  │
 *                    yielding
 *   any ──close──▶ closed                                      (what is queued is dropped)
 * ```
 *
 * A slice is up to `SLICE_ITEMS` list items (submits, releases, cancels: a long `submit` is cut
 * between tasks, which the core handles one by one anyway; gathers and pings cost no room),
 * handed over as one batch so that the
 * scheduler still places a slice's tasks together. After each slice, once `budgetMs` has been
 * spent in this turn, the rest waits for the next turn (`setImmediate`: after the I/O that came
 * meanwhile) and the client's socket is not read meanwhile, so its kernel buffers push back on
 * it and what is queued here stays bounded. The order of one client's messages never changes.
 */
export const IngestState = {
  IDLE: 'idle',
  HANDLING: 'handling',
  YIELDING: 'yielding',
  CLOSED: 'closed',
} as const
export type IngestState = (typeof IngestState)[keyof typeof IngestState]

const { IDLE, HANDLING, YIELDING, CLOSED } = IngestState

/** Every legal move of a client's ingest: name → allowed sources and the target. */
export const INGEST_TRANSITIONS = {
  handle: { from: [IDLE, YIELDING], to: HANDLING },
  yield: { from: [HANDLING], to: YIELDING },
  drain: { from: [HANDLING], to: IDLE },
  close: { from: [IDLE, HANDLING, YIELDING], to: CLOSED },
} as const satisfies Record<string, { from: readonly IngestState[]; to: IngestState }>

/** List items per slice: about a millisecond or two of the core's work. */
export const SLICE_ITEMS = 1024

/** Time one client may take in one turn of the event loop before the others get theirs. Milliseconds. */
export const INGEST_BUDGET_MS = 10

export interface IngestTarget {
  /** Hands a slice to the core. */
  handle(messages: readonly ClientToCoordinator[]): void
  /** Whether the link was closed (by the core, for a violation): nothing more is handled. */
  closed(): boolean
  /** Stop and restart reading the client's socket (absent for in-process links). */
  pause?(): void
  resume?(): void
}

export class ClientIngest {
  #state: IngestState = IngestState.IDLE
  #queue: ClientToCoordinator[] = []
  #head = 0
  /** Items of the head message handed over already (it was cut). */
  #offset = 0
  #paused = false
  readonly #target: IngestTarget
  readonly #budgetMs: number

  constructor(target: IngestTarget, budgetMs = INGEST_BUDGET_MS) {
    this.#target = target
    this.#budgetMs = budgetMs
  }

  get state(): IngestState {
    return this.#state
  }

  /** Messages queued and not handed over yet. */
  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Frames from the client: handled now, unless earlier ones still wait (then behind them). */
  push(messages: readonly ClientToCoordinator[]): void {
    switch (this.#state) {
      case IngestState.CLOSED:
        return
      case IngestState.IDLE:
        for (const m of messages) this.#queue.push(m)
        this.#run()
        return
      case IngestState.HANDLING:
      case IngestState.YIELDING:
        for (const m of messages) this.#queue.push(m)
        return
    }
  }

  /** The client is gone: what it sent and was not handled is dropped with it. */
  close(): void {
    if (this.#state === CLOSED) return
    this.#to('close')
    this.#queue = []
    this.#head = 0
    this.#offset = 0
  }

  #to(name: keyof typeof INGEST_TRANSITIONS): void {
    this.#state = nextState(INGEST_TRANSITIONS, name, this.#state, 'client ingest')
  }

  #run(): void {
    this.#to('handle')
    const t0 = performance.now()
    while (this.#head < this.#queue.length) {
      if (this.#target.closed()) return this.close()
      this.#target.handle(this.#slice())
      if (this.#state !== IngestState.HANDLING) return // closed while handling
      if (this.#head < this.#queue.length && performance.now() - t0 >= this.#budgetMs) {
        this.#to('yield')
        if (this.#head >= SLICE_ITEMS) {
          // Let go of what was handed over (a burst would keep its frames alive to the end).
          this.#queue = this.#queue.slice(this.#head)
          this.#head = 0
        }
        if (!this.#paused) {
          this.#paused = true
          this.#target.pause?.()
        }
        setImmediate(() => {
          if (this.#state === IngestState.YIELDING) this.#run()
        })
        return
      }
    }
    this.#queue = []
    this.#head = 0
    this.#offset = 0
    this.#to('drain')
    if (this.#paused) {
      this.#paused = false
      this.#target.resume?.()
    }
  }

  /**
   * The next slice: whole messages up to `SLICE_ITEMS` items, and part of the next one if it
   * is longer (`#offset` says how far into the head message's list earlier slices went).
   */
  #slice(): ClientToCoordinator[] {
    const slice: ClientToCoordinator[] = []
    let room = SLICE_ITEMS
    while (this.#head < this.#queue.length && room > 0) {
      const m = this.#queue[this.#head]!
      const left = itemCount(m) - this.#offset
      if (left <= room && this.#offset === 0) {
        slice.push(m)
      } else {
        const take = Math.min(left, room)
        slice.push(part(m, this.#offset, this.#offset + take))
        if (take < left) {
          this.#offset += take
          break
        }
      }
      room -= Math.min(left, room)
      this.#offset = 0
      this.#head++
    }
    return slice
  }
}

/**
 * How many items a message carries, for the slice's budget: its list's length for the kinds a
 * slice may cut (each item is handled on its own; a scatter's values are stored one by one);
 * nothing for the ones that only queue or answer (a `gather` is judged whole, and its repeats
 * within a slice are answered once).
 */
function itemCount(m: ClientToCoordinator): number {
  switch (m.kind) {
    case 'submit':
      return Math.max(1, m.tasks.length)
    case 'cancel':
    case 'release':
      return Math.max(1, m.ids.length)
    case 'scatter':
      return 1
    case 'gather':
    case 'await':
    case 'ping':
    case 'hello':
      return 0
  }
}

/** Items `from` to `to` of `m`'s list; only the kinds `itemCount` counts by items reach here. */
function part(m: ClientToCoordinator, from: number, to: number): ClientToCoordinator {
  switch (m.kind) {
    case 'submit':
      return { ...m, tasks: m.tasks.slice(from, to) }
    case 'cancel':
    case 'release':
      return { ...m, ids: m.ids.slice(from, to) }
    case 'gather':
    case 'scatter':
    case 'await':
    case 'ping':
    case 'hello':
      throw new Error(`a ${m.kind} message is never cut`)
  }
}
