import type { Message } from '@clusterpool/protocol'

/** The names of a message type's list fields. */
export type ItemsKey<M> = { [K in keyof M]: M[K] extends readonly unknown[] ? K : never }[keyof M]
/** The element type of list field `F` of message `M`. */
export type ItemOf<M, F extends keyof M> = M[F] extends readonly (infer I)[] ? I : never

/** The member of a message union with the given kind. */
export type OfKind<M, K> = Extract<M, { kind: K }>

/** The sending side of a link to a peer: what clients, workers and the coordinator call. */
export interface MessageSink<Out extends Message> {
  readonly closed: boolean
  /** Queues a message; it leaves with the next flush (this tick). */
  send(message: Out): void
  /**
   * Appends `item` to the `field` list of the last queued message if it is of `kind`, or
   * queues `{ kind, [field]: [item] }`. Keeps order across kinds.
   */
  pushItem<K extends Out['kind'], F extends ItemsKey<OfKind<Out, K>>>(
    kind: K,
    field: F,
    item: ItemOf<OfKind<Out, K>, F>,
  ): void
  /** Sends what is queued now. */
  flush(): void
  close(code?: number, reason?: string): void
}

/**
 * Messages waiting to leave, coalesced per tick: `pushItem` grows the last message of the same
 * kind, and `schedule` runs the flush once per tick however many messages were queued.
 */
export class Outbox<Out extends Message> {
  #queue: Out[] = []
  #scheduled = false
  #lastFlush = -Infinity
  readonly #flush: () => void

  constructor(flush: () => void) {
    this.#flush = flush
  }

  get size(): number {
    return this.#queue.length
  }

  push(message: Out): void {
    this.#queue.push(message)
    this.schedule()
  }

  pushItem(kind: string, field: string, item: unknown): void {
    const last = this.#queue[this.#queue.length - 1] as Record<string, unknown> | undefined
    if (last !== undefined && last.kind === kind) {
      ;(last[field] as unknown[]).push(item)
      return
    }
    this.#queue.push({ kind, [field]: [item] } as unknown as Out)
    this.schedule()
  }

  /** Takes everything queued. */
  take(): Out[] {
    this.#scheduled = false
    const q = this.#queue
    this.#queue = []
    return q
  }

  clear(): void {
    this.#queue = []
  }

  schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // An idle link sends at the end of this task (lowest latency); a busy one waits for the
    // event loop's next turn, so everything that arrives meanwhile shares the frame.
    const busy = performance.now() - this.#lastFlush < BUSY_WITHIN_MS
    if (busy) setImmediate(this.#run)
    else queueMicrotask(this.#run)
  }

  readonly #run = (): void => {
    if (!this.#scheduled) return
    this.#scheduled = false
    this.#lastFlush = performance.now()
    this.#flush()
  }
}

/** A link that flushed this recently counts as busy. Milliseconds. */
const BUSY_WITHIN_MS = 0.25
