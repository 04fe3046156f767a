/**
 * Values kept on this worker, by task key: results of `keep` tasks and of tasks over the hold
 * threshold, relayed dependencies kept as replicas, and data a client scattered.
 *
 * A value is in memory or spilled (its bytes in a spill file, only its size here). Values in
 * memory are kept least recently used first: `get` and `hold` make a value the most recent, and
 * `spillCandidates` hands out the oldest. This class does no I/O: `MemoryManager` writes and
 * reads the files, then calls `markSpilled` and `restore`.
 */
export class HeldData {
  /** In memory, least recently used first (a Map keeps insertion order). */
  readonly #values = new Map<string, Uint8Array>()
  /** Spilled: key → size. */
  readonly #spilled = new Map<string, number>()
  #memoryBytes = 0
  #spilledBytes = 0

  /** Bytes held, in memory and spilled, for the heartbeat. */
  get bytes(): number {
    return this.#memoryBytes + this.#spilledBytes
  }

  /** Bytes held in memory (managed memory). */
  get memoryBytes(): number {
    return this.#memoryBytes
  }

  get spilledBytes(): number {
    return this.#spilledBytes
  }

  get spilledCount(): number {
    return this.#spilled.size
  }

  /** The value of `key` if it is in memory (and now the most recently used). */
  get(key: string): Uint8Array | undefined {
    const v = this.#values.get(key)
    if (v !== undefined) {
      this.#values.delete(key)
      this.#values.set(key, v)
    }
    return v
  }

  /** Whether `key` is held, in memory or spilled. */
  has(key: string): boolean {
    return this.#values.has(key) || this.#spilled.has(key)
  }

  /** The size of `key`'s value, in memory or spilled (without making it the most recent). */
  sizeOf(key: string): number | undefined {
    return this.#values.get(key)?.byteLength ?? this.#spilled.get(key)
  }

  /** The size of `key` if it is spilled. */
  spilledSize(key: string): number | undefined {
    return this.#spilled.get(key)
  }

  /**
   * Keeps `value` under `key`, replacing what was there. `value` must own its bytes. Returns the
   * size of the spilled value it replaced, if any (its file is the caller's to remove).
   */
  hold(key: string, value: Uint8Array): number | undefined {
    const spilled = this.release(key)
    this.#values.set(key, value)
    this.#memoryBytes += value.byteLength
    return spilled
  }

  /** Forgets `key`. Returns its size if it was spilled (its file is the caller's to remove). */
  release(key: string): number | undefined {
    // The common case: a task's result, released by the coordinator, was never held here.
    if (this.#values.size === 0 && this.#spilled.size === 0) return undefined
    const old = this.#values.get(key)
    if (old) {
      this.#memoryBytes -= old.byteLength
      this.#values.delete(key)
      return undefined
    }
    const size = this.#spilled.get(key)
    if (size === undefined) return undefined
    this.#spilledBytes -= size
    this.#spilled.delete(key)
    return size
  }

  /** Values in memory, least recently used first. */
  *spillCandidates(): IterableIterator<[string, Uint8Array]> {
    yield* this.#values
  }

  /**
   * `key`'s bytes are on disk now: drop them from memory. False (nothing changes) when `key` no
   * longer holds `value` (released or replaced while it was written): the file is then stale.
   */
  markSpilled(key: string, value: Uint8Array): boolean {
    if (this.#values.get(key) !== value) return false
    this.#values.delete(key)
    this.#memoryBytes -= value.byteLength
    this.#spilled.set(key, value.byteLength)
    this.#spilledBytes += value.byteLength
    return true
  }

  /** A spilled value was read back: in memory again, the most recently used. False if it is no longer spilled. */
  restore(key: string, value: Uint8Array): boolean {
    const size = this.#spilled.get(key)
    if (size === undefined) return false
    this.#spilled.delete(key)
    this.#spilledBytes -= size
    this.#values.set(key, value)
    this.#memoryBytes += value.byteLength
    return true
  }

  /**
   * Every key held, in memory or spilled, with its value's size in bytes (a reconnecting
   * worker's inventory).
   */
  *items(): IterableIterator<{ key: string; size: number }> {
    for (const [key, value] of this.#values) yield { key, size: value.byteLength }
    for (const [key, size] of this.#spilled) yield { key, size }
  }

  /** Forgets everything; returns the spilled keys with their sizes (files to remove). */
  clear(): [string, number][] {
    const spilled = [...this.#spilled]
    this.#values.clear()
    this.#spilled.clear()
    this.#memoryBytes = 0
    this.#spilledBytes = 0
    return spilled
  }
}
