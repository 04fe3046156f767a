/**
 * Values kept on this worker, by task key: results of `keep` tasks and of tasks over the hold
 * threshold, relayed dependencies kept as replicas, and data a client scattered.
 */
export class HeldData {
  readonly #values = new Map<string, Uint8Array>()
  #bytes = 0

  /** Bytes held, for the heartbeat. */
  get bytes(): number {
    return this.#bytes
  }

  get(key: string): Uint8Array | undefined {
    return this.#values.get(key)
  }

  /** Keeps `value` under `key`, replacing what was there. `value` must own its bytes. */
  hold(key: string, value: Uint8Array): void {
    this.release(key)
    this.#values.set(key, value)
    this.#bytes += value.byteLength
  }

  release(key: string): void {
    const old = this.#values.get(key)
    if (old) {
      this.#bytes -= old.byteLength
      this.#values.delete(key)
    }
  }

  /** Every key held, with its value's size in bytes (a reconnecting worker's inventory). */
  *items(): IterableIterator<{ key: string; size: number }> {
    for (const [key, value] of this.#values) yield { key, size: value.byteLength }
  }

  clear(): void {
    this.#values.clear()
    this.#bytes = 0
  }
}
