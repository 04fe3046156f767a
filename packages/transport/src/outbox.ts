import { LAZY_KINDS, MERGED_BACK_KIND as MERGED_BACK, type Message } from '@clusterpool/protocol'

/** The names of a message type's list fields. */
export type ItemsKey<M> = { [K in keyof M]: M[K] extends readonly unknown[] ? K : never }[keyof M]
/** The element type of list field `F` of message `M`. */
export type ItemOf<M, F extends keyof M> = M[F] extends readonly (infer I)[] ? I : never

/** The member of a message union with the given kind. */
export type OfKind<M, K> = Extract<M, { kind: K }>

/** The sending side of a link to a peer: what clients, workers and the coordinator call. */
export interface MessageSink<Out extends Message> {
  readonly closed: boolean
  /**
   * Queues a message; it leaves with the next flush: this tick, or for the lazy kinds (`running`,
   * `release`) with the next urgent message or within a few milliseconds.
   */
  send(message: Out): void
  /**
   * Appends `item` to the `field` list of the last queued message if it is of `kind`, or
   * queues `{ kind, [field]: [item] }`. Keeps order across kinds, except that `running` items
   * join the queued `running` message (see `Outbox`).
   */
  pushItem<K extends Out['kind'], F extends ItemsKey<OfKind<Out, K>>>(
    kind: K,
    field: F,
    item: ItemOf<OfKind<Out, K>, F>,
  ): void
  /** Sends what is queued now. */
  flush(): void
  close(code?: number, reason?: string): void
  /**
   * True while the link is backed up (a socket's `bufferedAmount` past its high-water mark);
   * producers of bulk data wait for `onceDrained`. Absent: never congested (in-process links).
   */
  readonly congested?: boolean
  /** Calls `listener` once the link is no longer congested (at once if it is not). */
  onceDrained?(listener: () => void): void
  /**
   * Sends frames of at most `maxBytes` from now on (the peer said it takes no more), splitting
   * lists to fit. Absent: no limit of the peer's own (in-process links).
   */
  limitFrames?(maxBytes: number): void
}

/**
 * `{ kind, [field]: [item] }`, with the protocol's list fields spelled out: an object literal
 * with a computed key whose name varies from call to call is built by the runtime, which costs
 * about a microsecond; a literal of known shape is a few nanoseconds.
 */
function listMessage(kind: string, field: string, item: unknown): Record<string, unknown> {
  switch (field) {
    case 'items':
      return { kind, items: [item] }
    case 'ids':
      return { kind, ids: [item] }
    case 'tasks':
      return { kind, tasks: [item] }
    case 'keys':
      return { kind, keys: [item] }
    default:
      return { kind, [field]: [item] }
  }
}

/** How soon a queued flush runs: not at all, on the next turn (lazy), or as soon as it may. */
const Urgency = { NONE: 0, LAZY: 1, URGENT: 2 } as const
type Urgency = (typeof Urgency)[keyof typeof Urgency]

/**
 * Messages waiting to leave, coalesced per tick: `pushItem` grows the last message of the same
 * kind, and the flush runs once per tick however many messages were queued.
 *
 * When it runs:
 *
 * ```
 *   nothing queued ──urgent message, idle link──▶ microtask (leaves at the end of this task)
 *         │       └──urgent message, busy link──▶ setImmediate (later arrivals share the frame)
 *         └──only lazy messages──▶ with the next urgent message, or after LAZY_DELAY_MS
 * ```
 *
 * A link is busy when it flushed within `BUSY_WITHIN_MS`. Lazy kinds (the protocol's `LAZY_KINDS`) tell the
 * peer something no progress waits for (a task started, a result may be dropped): they ride in
 * the frame of the next urgent message instead of costing a frame, and a wakeup, of their own.
 * A round trip sends `release` with the next `submit`, and `running` with the task's result.
 */
export class Outbox<Out extends Message> {
  #queue: Out[] = []
  /** The flush already scheduled: none, a lazy one (timer) or an urgent one. */
  #scheduled: Urgency = Urgency.NONE
  #lastFlush = -Infinity
  /** Flushes lazy messages that no urgent one took along; one timer at most, reused. */
  #lazyTimer: NodeJS.Timeout | undefined
  /** The queued `running` message, which later `running` items join (see `MERGED_BACK`). */
  #running: Record<string, unknown> | undefined
  readonly #flush: () => void

  constructor(flush: () => void) {
    this.#flush = flush
  }

  get size(): number {
    return this.#queue.length
  }

  push(message: Out): void {
    this.#queue.push(message)
    this.#request(message.kind)
  }

  pushItem(kind: string, field: string, item: unknown): void {
    const last =
      kind === MERGED_BACK && this.#running !== undefined
        ? this.#running
        : (this.#queue[this.#queue.length - 1] as Record<string, unknown> | undefined)
    if (last !== undefined && last.kind === kind) {
      // Same kind as the last message: its flush is scheduled already, at this kind's urgency.
      ;(last[field] as unknown[]).push(item)
      return
    }
    const message = listMessage(kind, field, item)
    if (kind === MERGED_BACK) this.#running = message
    this.#queue.push(message as unknown as Out)
    this.#request(kind)
  }

  /** Takes everything queued. */
  take(): Out[] {
    this.#scheduled = Urgency.NONE
    this.#running = undefined
    const q = this.#queue
    this.#queue = []
    return q
  }

  clear(): void {
    this.#queue = []
    this.#running = undefined
    this.#scheduled = Urgency.NONE
    if (this.#lazyTimer !== undefined) clearTimeout(this.#lazyTimer)
    this.#lazyTimer = undefined
  }

  /** Schedules an urgent flush (see the class comment). */
  schedule(): void {
    if (this.#scheduled === Urgency.URGENT) return
    this.#scheduled = Urgency.URGENT
    // An idle link sends at the end of this task (lowest latency); a busy one waits for the
    // event loop's next turn, so everything that arrives meanwhile shares the frame.
    if (performance.now() - this.#lastFlush < BUSY_WITHIN_MS) setImmediate(this.#run)
    else queueMicrotask(this.#run)
  }

  #request(kind: string): void {
    if (!LAZY_KINDS.has(kind)) this.schedule()
    else if (this.#scheduled === Urgency.NONE) {
      this.#scheduled = Urgency.LAZY
      // A timer still pending from an earlier lazy message fires sooner; that is fine.
      this.#lazyTimer ??= setTimeout(this.#onLazyTimer, LAZY_DELAY_MS).unref()
    }
  }

  readonly #onLazyTimer = (): void => {
    this.#lazyTimer = undefined
    if (this.#scheduled === Urgency.LAZY) this.#run()
  }

  readonly #run = (): void => {
    if (this.#scheduled === Urgency.NONE) return
    this.#scheduled = Urgency.NONE
    this.#lastFlush = performance.now()
    this.#flush()
  }
}

/** Lazy messages no urgent one took along leave after this long. Milliseconds. */
const LAZY_DELAY_MS = 2

/** A link that flushed this recently counts as busy. Milliseconds. */
const BUSY_WITHIN_MS = 0.25
