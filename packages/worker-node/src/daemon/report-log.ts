import {
  detachBytes,
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
 * Pure: no clocks, no I/O. Values are copied in (a result may be a view into a read buffer).
 */
export class ReportLog {
  readonly #reports = new Map<string, LoggedReport>()
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

  /** Keeps a result's report (its value copied), evicting the oldest past the bounds. */
  result(item: WorkerResultItem): void {
    const kept = item.value === undefined ? item : { ...item, value: detachBytes(item.value) }
    this.#put(item.key, { kind: 'result', item: kept })
  }

  error(item: WorkerErrorItem): void {
    this.#put(item.key, { kind: 'error', item })
  }

  /** The report of `key`, removed from the log; undefined if none is kept. */
  take(key: string): LoggedReport | undefined {
    const r = this.#reports.get(key)
    if (r !== undefined) this.#delete(key, r)
    return r
  }

  drop(key: string): void {
    const r = this.#reports.get(key)
    if (r !== undefined) this.#delete(key, r)
  }

  #put(key: string, r: LoggedReport): void {
    this.drop(key)
    this.#reports.set(key, r)
    this.#bytes += valueBytes(r)
    while (this.#reports.size > this.#maxReports || this.#bytes > this.#maxBytes) {
      const oldest = this.#reports.entries().next()
      if (oldest.done === true) break
      this.#delete(oldest.value[0], oldest.value[1])
    }
  }

  #delete(key: string, r: LoggedReport): void {
    this.#reports.delete(key)
    this.#bytes -= valueBytes(r)
  }
}

function valueBytes(r: LoggedReport): number {
  return r.kind === 'result' ? (r.item.value?.byteLength ?? 0) : 0
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
