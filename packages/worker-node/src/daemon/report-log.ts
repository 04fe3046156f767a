import {
  type HeldItem,
  type WorkerErrorItem,
  type WorkerInventory,
  type WorkerResultItem,
} from '@clusterpool/protocol'

/**
 * Reports a worker keeps after it sent them (or could not send them): the last
 * `REPORT_LOG_DEFAULTS.maxReports`, up to `maxBytes` of inline values. Bounds; the oldest go first.
 */
export const REPORT_LOG_DEFAULTS = Object.freeze({
  /** Reports kept, results and errors together. */
  maxReports: 4096,
  /** Bytes of inline result values kept. 32 MiB. */
  maxBytes: 32 * 2 ** 20,
})

/** A kept report: what was (or would have been) sent for a finished task. */
export type LoggedReport =
  | { readonly kind: 'result'; readonly item: WorkerResultItem }
  | { readonly kind: 'error'; readonly item: WorkerErrorItem }

/**
 * The reports of tasks this worker finished, kept so that a coordinator restart loses none of
 * them. A report sent just before the coordinator died may never have reached it, and results
 * that finish during an outage have nowhere to go: both are kept here (the last few thousand,
 * bounded in bytes), listed in the inventory of the next `hello`, and answered from here when
 * the restarted coordinator assigns the same key again, so the task does not run twice. A
 * report evicted by the bounds is lost, and its task runs again (at least once, as always).
 *
 * Pure: no clocks, no I/O. A result's value is kept as it is: it must own its bytes, as the
 * pool's results do (`PoolEvents.onResult`). Copying it here cost more than the rest of the
 * log's work: reading `.buffer` of a small typed array, to see whether it is a view, makes V8
 * move its bytes off the heap into a buffer of their own.
 *
 * The oldest report is found through `#order`, not by iterating the Map: a Map that has had
 * its oldest entry deleted on every insert keeps those deleted entries at its front until it
 * rehashes, and iterating from the front walks over them, about 2,000 of them on average at
 * 4,096 reports (a microsecond per result, as much as the rest of the daemon's work for it).
 */
export class ReportLog {
  /** The items themselves, not `LoggedReport`s: one object fewer per finished task to keep. */
  readonly #reports = new Map<string, LoggedItem>()
  /**
   * Every report put, oldest first, from `#head` on. Reports dropped or replaced since stay
   * here until they reach the front (they are no longer the Map's entry for their key), or
   * until they outnumber the live ones and the order is compacted.
   */
  #order: LoggedItem[] = []
  #head = 0
  readonly #maxReports: number
  readonly #maxBytes: number
  #bytes = 0

  constructor(limits: { readonly maxReports?: number; readonly maxBytes?: number } = {}) {
    this.#maxReports = limits.maxReports ?? REPORT_LOG_DEFAULTS.maxReports
    this.#maxBytes = limits.maxBytes ?? REPORT_LOG_DEFAULTS.maxBytes
  }

  get size(): number {
    return this.#reports.size
  }

  /** Bytes of inline values kept. */
  get bytes(): number {
    return this.#bytes
  }

  keys(): IterableIterator<string> {
    return this.#reports.keys()
  }

  /** Keeps a result's report (the item itself), evicting the oldest past the bounds. */
  result(item: WorkerResultItem): void {
    this.#put(item)
  }

  error(item: WorkerErrorItem): void {
    this.#put(item)
  }

  /** The report of `key`, removed from the log; undefined if none is kept. */
  take(key: string): LoggedReport | undefined {
    const r = this.#reports.get(key)
    if (r === undefined) return undefined
    this.#delete(r)
    return 'error' in r ? { kind: 'error', item: r } : { kind: 'result', item: r }
  }

  drop(key: string): void {
    const r = this.#reports.get(key)
    if (r !== undefined) this.#delete(r)
  }

  #put(r: LoggedItem): void {
    const old = this.#reports.get(r.key)
    if (old !== undefined) this.#delete(old)
    this.#reports.set(r.key, r)
    this.#order.push(r)
    this.#bytes += valueBytes(r)
    while (this.#reports.size > this.#maxReports || this.#bytes > this.#maxBytes) {
      const oldest = this.#order[this.#head]
      if (oldest === undefined) break
      this.#head++
      if (this.#reports.get(oldest.key) === oldest) this.#delete(oldest)
    }
    this.#compact()
  }

  #delete(r: LoggedItem): void {
    this.#reports.delete(r.key)
    this.#bytes -= valueBytes(r)
  }

  /** Drops the order's consumed front, and its dead entries once they outnumber the live ones. */
  #compact(): void {
    const pending = this.#order.length - this.#head
    if (pending > 2 * this.#reports.size + 1024) {
      this.#order = this.#order.slice(this.#head).filter((r) => this.#reports.get(r.key) === r)
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head)
      this.#head = 0
    }
  }
}

/** What the log holds per key: a result's item or an error's (an error item has `error`). */
type LoggedItem = WorkerResultItem | WorkerErrorItem

function valueBytes(r: LoggedItem): number {
  return 'error' in r ? 0 : (r.value?.byteLength ?? 0)
}

/** The inventory of a reconnecting worker: its tasks, the reports it keeps, its held values. */
export function buildInventory(
  taskKeys: Iterable<string>,
  log: ReportLog,
  held: Iterable<HeldItem>,
): WorkerInventory {
  const tasks = [...taskKeys]
  for (const key of log.keys()) tasks.push(key)
  return { tasks, held: [...held] }
}
