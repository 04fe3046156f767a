/**
 * Moves values that live in workers' memory: the coordinator asks the holder (`fetch`), the
 * worker answers with `data`, and the value is handed to whoever waited — a client awaiting a
 * result, or a task about to run on another worker. Values are relayed through the coordinator
 * (not sent worker to worker) so that workers need no listening port and no address the others
 * can reach, and the coordinator keeps nothing once a value is passed on.
 *
 * One fetch per (key, holder) is in flight at a time; later waiters join it.
 */
export interface DataWaiter {
  /** The value arrived. */
  value(bytes: Uint8Array): void
  /** The holder does not have it (released meanwhile) or left before answering. */
  missing(): void
}

interface Pending {
  readonly key: string
  readonly workerId: string
  readonly waiters: DataWaiter[]
}

export class DataRelay {
  readonly #sendFetch: (workerId: string, key: string) => void
  /** By `workerId + '\n' + key`. */
  readonly #pending = new Map<string, Pending>()
  /** Bytes relayed so far, and how many values. */
  bytes = 0
  values = 0

  readonly #onRelayed: ((bytes: number) => void) | undefined

  constructor(
    sendFetch: (workerId: string, key: string) => void,
    onRelayed?: (bytes: number) => void,
  ) {
    this.#sendFetch = sendFetch
    this.#onRelayed = onRelayed
  }

  get inFlight(): number {
    return this.#pending.size
  }

  /** Gets `key` from worker `workerId` for `waiter`. */
  fetch(key: string, workerId: string, waiter: DataWaiter): void {
    const id = `${workerId}\n${key}`
    const pending = this.#pending.get(id)
    if (pending) {
      pending.waiters.push(waiter)
      return
    }
    this.#pending.set(id, { key, workerId, waiters: [waiter] })
    this.#sendFetch(workerId, key)
  }

  /**
   * A worker's `data` answer. Only answers to a `fetch` sent to this worker are taken; the keys
   * of the others (data nobody asked it for) are returned, or undefined when there are none.
   */
  onData(
    workerId: string,
    items: readonly { readonly key: string; readonly value: Uint8Array }[],
    missing: readonly string[] | undefined,
  ): string[] | undefined {
    let unasked: string[] | undefined
    for (const { key, value } of items) {
      const waiters = this.#take(workerId, key)
      if (waiters.length === 0) {
        ;(unasked ??= []).push(key)
        continue
      }
      this.bytes += value.byteLength
      this.values++
      this.#onRelayed?.(value.byteLength)
      for (const w of waiters) w.value(value)
    }
    for (const key of missing ?? []) for (const w of this.#take(workerId, key)) w.missing()
    return unasked
  }

  /** The worker left: whatever was asked of it will not come. */
  workerGone(workerId: string): void {
    const gone = [...this.#pending.values()].filter((p) => p.workerId === workerId)
    for (const p of gone) for (const w of this.#take(workerId, p.key)) w.missing()
  }

  #take(workerId: string, key: string): DataWaiter[] {
    const id = `${workerId}\n${key}`
    const pending = this.#pending.get(id)
    if (!pending) return []
    this.#pending.delete(id)
    return pending.waiters
  }
}
