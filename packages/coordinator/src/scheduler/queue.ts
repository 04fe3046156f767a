import { BinaryHeap } from './heap.js'
import type { TaskRecord } from './task.js'

const bySeq = (a: TaskRecord, b: TaskRecord): boolean => a.seq < b.seq

/**
 * A priority queue of tasks: higher `priority` first, lower `seq` (earlier submission) first
 * within a priority.
 *
 * Tasks arrive almost always in `seq` order, so each priority gets a FIFO bucket (an array with
 * a moving head: O(1) push and pop, no pointer chasing), plus a small heap for the few that
 * arrive out of order (retried or requeued tasks, dependents that became ready late). Distinct
 * priorities sit in a heap of numbers. So the common case costs O(1), the worst O(log n), and a
 * queued task costs one array slot.
 */
export class TaskQueue {
  readonly #buckets = new Map<number, Bucket>()
  readonly #priorities = new BinaryHeap<number>((a, b) => a > b)
  #size = 0

  /** Entries, including stale ones the owner has not removed yet. */
  get size(): number {
    return this.#size
  }

  push(t: TaskRecord): void {
    let b = this.#buckets.get(t.priority)
    if (b === undefined) {
      b = new Bucket()
      this.#buckets.set(t.priority, b)
      this.#priorities.push(t.priority)
    }
    b.push(t)
    this.#size++
  }

  peek(): TaskRecord | undefined {
    for (;;) {
      const p = this.#priorities.peek()
      if (p === undefined) return undefined
      const t = (this.#buckets.get(p) as Bucket).peek()
      if (t !== undefined) return t
      this.#buckets.delete(p)
      this.#priorities.pop()
    }
  }

  pop(): TaskRecord | undefined {
    const t = this.peek()
    if (t !== undefined) {
      ;(this.#buckets.get(t.priority) as Bucket).pop()
      this.#size--
    }
    return t
  }

  /** Keeps only the entries `keep` accepts. O(n). */
  rebuild(keep: (t: TaskRecord) => boolean): void {
    this.#size = 0
    for (const [p, b] of this.#buckets) {
      b.rebuild(keep)
      if (b.size === 0) this.#buckets.delete(p)
      else this.#size += b.size
    }
    const live = new Set(this.#buckets.keys())
    this.#priorities.rebuild((p) => live.delete(p)) // also drops duplicate priorities
  }
}

class Bucket {
  items: (TaskRecord | undefined)[] = []
  head = 0
  late: BinaryHeap<TaskRecord> | null = null

  get size(): number {
    return this.items.length - this.head + (this.late?.size ?? 0)
  }

  push(t: TaskRecord): void {
    const n = this.items.length
    if (n === this.head || (this.items[n - 1] as TaskRecord).seq < t.seq) this.items.push(t)
    else (this.late ??= new BinaryHeap(bySeq)).push(t)
  }

  peek(): TaskRecord | undefined {
    const a = this.items[this.head]
    const l = this.late?.peek()
    if (l === undefined) return a
    return a === undefined || l.seq < a.seq ? l : a
  }

  pop(): void {
    const a = this.items[this.head]
    const l = this.late?.peek()
    if (l !== undefined && (a === undefined || l.seq < a.seq)) {
      ;(this.late as BinaryHeap<TaskRecord>).pop()
      return
    }
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  rebuild(keep: (t: TaskRecord) => boolean): void {
    const kept: TaskRecord[] = []
    for (let i = this.head; i < this.items.length; i++) {
      const t = this.items[i] as TaskRecord
      if (keep(t)) kept.push(t)
    }
    this.items = kept
    this.head = 0
    this.late?.rebuild(keep)
    if (this.late !== null && this.late.size === 0) this.late = null
  }
}
