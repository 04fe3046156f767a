/**
 * A binary min-heap ordered by `before(a, b)` ("a comes out first").
 *
 * Push and pop are O(log n); the backing store is one plain array, so a million entries cost
 * about 8 MB on top of the items themselves. `rebuild` heapifies a filtered array in O(n),
 * which the queue uses to compact entries it deleted lazily.
 */
export class BinaryHeap<T> {
  #items: T[] = []
  readonly #before: (a: T, b: T) => boolean

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before
  }

  get size(): number {
    return this.#items.length
  }

  peek(): T | undefined {
    return this.#items[0]
  }

  push(item: T): void {
    const items = this.#items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent] as T
      if (!this.#before(item, p)) break
      items[i] = p
      i = parent
    }
    items[i] = item
  }

  pop(): T | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) this.#siftDown(last, 0)
    return top
  }

  /** Keeps only the items `keep` accepts, then restores the heap order in O(n). */
  rebuild(keep: (item: T) => boolean): void {
    this.#items = this.#items.filter(keep)
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) {
      this.#siftDown(this.#items[i] as T, i)
    }
  }

  /** The items in heap (not sorted) order. */
  values(): readonly T[] {
    return this.#items
  }

  #siftDown(item: T, start: number): void {
    const items = this.#items
    const n = items.length
    let i = start
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && this.#before(items[right] as T, items[left] as T)) child = right
      const c = items[child] as T
      if (!this.#before(c, item)) break
      items[i] = c
      i = child
    }
    items[i] = item
  }
}
