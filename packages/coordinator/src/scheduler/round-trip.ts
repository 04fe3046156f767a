/**
 * A worker's round trip, robust to bursts: the median of its last `ROUND_TRIP_WINDOW` samples.
 *
 * A sample is the time from assigning a task to a free process to its result, minus the task's
 * run. Most samples are the wire and the processes on the way; some also hold this process's own
 * queueing (a frame of a thousand submits handled before the results behind it are read), and
 * those come in runs. A moving average follows such a run up (one burst took a 0.3 ms round trip
 * to 19.7 ms), and the queues sized from it stay too deep long after. The median moves only when
 * most of the recent samples do: a run of slow ones shorter than half the window changes nothing,
 * a lasting change (a worker on a slower network) shows within half a window. Pure, allocation
 * free once the window is full.
 */
export const ROUND_TRIP_WINDOW = 15

export class RoundTripWindow {
  readonly #ring = new Float64Array(ROUND_TRIP_WINDOW)
  readonly #sorted = new Float64Array(ROUND_TRIP_WINDOW)
  #next = 0
  #count = 0

  /** Samples taken so far (all of them, not only the ones in the window). */
  samples = 0

  /** Adds a sample (milliseconds) and returns the median of the window. */
  add(sampleMs: number): number {
    this.#ring[this.#next] = sampleMs
    this.#next = (this.#next + 1) % ROUND_TRIP_WINDOW
    if (this.#count < ROUND_TRIP_WINDOW) this.#count++
    this.samples++
    return this.median()
  }

  /** The median of the samples in the window; NaN before the first. */
  median(): number {
    const n = this.#count
    if (n === 0) return NaN
    // Full (the steady state), the whole buffers: no views to allocate.
    const sorted = n === ROUND_TRIP_WINDOW ? this.#sorted : this.#sorted.subarray(0, n)
    sorted.set(n === ROUND_TRIP_WINDOW ? this.#ring : this.#ring.subarray(0, n))
    sorted.sort()
    const mid = n >> 1
    return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
}
