import type { PoolEntry } from './pool-entry.js'

/**
 * The pool's FIFO of queued tasks. Removal (cancel, abort) is lazy: a removed entry is no longer
 * `queued` and is skipped when it reaches the front. Tasks given back by a dead child go to the
 * front, in their order; tasks submitted by running tasks (`PoolTask.urgent`) come next, in
 * their order, so that started work finishes before new work starts.
 */
export class PoolQueue {
  /** Entries put back at the front, stored reversed: the last one is the next out. */
  #front: PoolEntry[] = []
  #urgent: PoolEntry[] = []
  #urgentHead = 0
  #items: PoolEntry[] = []
  #head = 0
  #size = 0

  /** Queued entries (removed ones not counted). */
  get size(): number {
    return this.#size
  }

  push(entry: PoolEntry, urgent = false): void {
    if (urgent) this.#urgent.push(entry)
    else this.#items.push(entry)
    this.#size++
  }

  /** Puts entries back at the front, keeping their order. */
  pushFront(entries: readonly PoolEntry[]): void {
    for (let i = entries.length - 1; i >= 0; i--) this.#front.push(entries[i] as PoolEntry)
    this.#size += entries.length
  }

  /** The next queued entry, without taking it. */
  peek(): PoolEntry | undefined {
    for (;;) {
      const front = this.#front[this.#front.length - 1]
      if (front !== undefined) {
        if (front.state === 'queued') return front
        this.#front.pop()
        continue
      }
      const urgent = this.#urgent[this.#urgentHead]
      if (urgent !== undefined) {
        if (urgent.state === 'queued') return urgent
        this.#urgentHead++
        continue
      }
      if (this.#urgentHead > 0) {
        this.#urgent = []
        this.#urgentHead = 0
      }
      const item = this.#items[this.#head]
      if (item === undefined) {
        if (this.#head > 0) {
          this.#items = []
          this.#head = 0
        }
        return undefined
      }
      if (item.state === 'queued') return item
      this.#head++
    }
  }

  /** Takes the entry `peek()` returned. */
  shift(): PoolEntry | undefined {
    const entry = this.peek()
    if (entry === undefined) return undefined
    if (this.#front.length > 0) this.#front.pop()
    else if (this.#urgentHead < this.#urgent.length) {
      this.#urgentHead++
      if (this.#urgentHead >= 4096 && this.#urgentHead * 2 >= this.#urgent.length) {
        this.#urgent = this.#urgent.slice(this.#urgentHead)
        this.#urgentHead = 0
      }
    } else {
      this.#head++
      if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head)
        this.#head = 0
      }
    }
    this.#size--
    return entry
  }

  /** Removes a queued entry (it becomes `finished`; its slot is skipped later). */
  remove(entry: PoolEntry): void {
    if (entry.state !== 'queued') return
    entry.state = 'finished'
    this.#size--
  }

  /** Takes every queued entry, in order. */
  drain(): PoolEntry[] {
    const out: PoolEntry[] = []
    for (let e = this.shift(); e !== undefined; e = this.shift()) out.push(e)
    return out
  }
}
