/**
 * Duration estimates per function (`fnKey`), learned from the workers' reports.
 *
 * - Unknown function: `defaultDurationMs` (500 ms by default), until the first run reports.
 * - First report replaces the guess; later ones move it by an exponential moving average,
 *   `0.5·new + 0.5·old` (Dask's rule): recent behaviour counts, one outlier only halves its way in.
 * - A run still going past the estimate raises it to its elapsed time (on `tick`): the true
 *   duration is at least that, so queued siblings stop looking cheap.
 * - A function is *tiny* once observed below `tinyTaskMs` or the measured round trip to the
 *   workers, whichever is longer (`tinyTaskMs` 0 turns this off): tiny tasks get worker queues
 *   deep enough to hide the round trip (`tinyCapOf` in slots.ts).
 * - The *spread* is how far runs typically fall from the estimate, by the same moving average of
 *   `|new − estimate|`; it starts at the first run's duration (one run says nothing about how
 *   alike the next will be) and tends to 0 for a function whose runs all take the same time.
 *   Prefetching is worth its risk only when the spread is small (see `prefetchPays` in slots.ts).
 */
export class FnStats {
  readonly fnKey: string
  estimateMs: number
  /** How many finished runs the estimate is based on. */
  observed = 0
  /** Typical deviation of a run from the estimate (unknown function: the estimate). Milliseconds. */
  spreadMs: number

  constructor(fnKey: string, estimateMs: number) {
    this.fnKey = fnKey
    this.estimateMs = estimateMs
    this.spreadMs = estimateMs
  }
}

export class Estimates {
  readonly #byFn = new Map<string, FnStats>()
  readonly #defaultMs: number
  readonly #tinyMs: number
  /**
   * The round trip to a worker, averaged over every worker's samples (`WorkerRecord.roundTripMs`,
   * `sampleRoundTrip` in slots.ts): a function faster than this (or than `tinyTaskMs`) is tiny.
   * Milliseconds.
   */
  roundTripMs = 0

  constructor(defaultMs: number, tinyMs: number) {
    this.#defaultMs = defaultMs
    this.#tinyMs = tinyMs
  }

  /** The stats of a function, created on first use. One object per function, shared by its tasks. */
  of(fnKey: string): FnStats {
    let s = this.#byFn.get(fnKey)
    if (s === undefined) {
      s = new FnStats(fnKey, this.#defaultMs)
      this.#byFn.set(fnKey, s)
    }
    return s
  }

  observe(s: FnStats, durationMs: number): void {
    const d = Number.isFinite(durationMs) && durationMs > 0 ? durationMs : 0
    if (s.observed === 0) {
      s.estimateMs = d
      s.spreadMs = d
    } else {
      s.spreadMs = 0.5 * Math.abs(d - s.estimateMs) + 0.5 * s.spreadMs
      s.estimateMs = 0.5 * d + 0.5 * s.estimateMs
    }
    s.observed++
  }

  /** A run of this function has been going for `elapsedMs`: the estimate is at least that. */
  raise(s: FnStats, elapsedMs: number): void {
    if (elapsedMs > s.estimateMs) s.estimateMs = elapsedMs
  }

  isTiny(s: FnStats): boolean {
    return (
      s.observed > 0 &&
      this.#tinyMs > 0 &&
      (s.estimateMs < this.#tinyMs || s.estimateMs < this.roundTripMs)
    )
  }

  values(): IterableIterator<FnStats> {
    return this.#byFn.values()
  }
}
