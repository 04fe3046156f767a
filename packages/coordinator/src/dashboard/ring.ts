/** A fixed-capacity buffer that keeps the newest `capacity` items: push is O(1). */
export class Ring<T> {
  readonly #items: (T | undefined)[]
  #next = 0
  #size = 0

  constructor(readonly capacity: number) {
    this.#items = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.#size
  }

  push(item: T): void {
    this.#items[this.#next] = item
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.#size === 0
      ? undefined
      : this.#items[(this.#next - 1 + this.capacity) % this.capacity]
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = []
    const start = (this.#next - this.#size + this.capacity) % this.capacity
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(start + i) % this.capacity]!)
    return out
  }
}

/**
 * A uniform sample of at most `capacity` items from a stream of unknown length (reservoir
 * sampling, Vitter's algorithm R): each `offer` is O(1), so a million offers cost a million
 * constant steps and the memory of `capacity` items.
 */
export class Reservoir<T> {
  #items: T[] = []
  #seen = 0

  constructor(
    readonly capacity: number,
    readonly random: () => number = Math.random,
  ) {}

  /** Items offered since the last `drain`. */
  get seen(): number {
    return this.#seen
  }

  offer(item: T): void {
    this.#seen++
    if (this.#items.length < this.capacity) {
      this.#items.push(item)
      return
    }
    const j = Math.floor(this.random() * this.#seen)
    if (j < this.capacity) this.#items[j] = item
  }

  /** The sample and how many were offered; starts a new sample. */
  drain(): { items: T[]; seen: number } {
    const out = { items: this.#items, seen: this.#seen }
    this.#items = []
    this.#seen = 0
    return out
  }
}
