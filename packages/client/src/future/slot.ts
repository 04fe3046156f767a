import type { Future } from './future.js'

/**
 * A value one owner keeps on each of its futures, as a `WeakMap<Future, V>` would keep it, but
 * stored on the future under a symbol of the owner: a property costs a fraction of a WeakMap
 * entry (or of a `Map` entry keyed by task id) on every submit, and leaves the garbage collector
 * no ephemerons to trace. `clear` leaves the property in place, set to `undefined`: deleting it
 * would turn the future into a slow dictionary object.
 */
export class FutureSlot<V> {
  readonly #key: symbol

  /** @param name Shown as the symbol's description when a future is inspected. */
  constructor(name: string) {
    this.#key = Symbol(name)
  }

  get(future: Future<unknown>): V | undefined {
    return (future as unknown as Record<symbol, V | undefined>)[this.#key]
  }

  set(future: Future<unknown>, value: V): void {
    ;(future as unknown as Record<symbol, V>)[this.#key] = value
  }

  clear(future: Future<unknown>): void {
    const slots = future as unknown as Record<symbol, V | undefined>
    if (slots[this.#key] !== undefined) slots[this.#key] = undefined
  }
}
