import { TimeoutError, deserializeError, type ChunkOutcome } from '@clusterpool/protocol'

import type { Future } from '../future/future.js'
import { valueIfFulfilled } from '../future/internal.js'
import type { MapOptions } from './executor.js'

type Source<T> = Iterator<T> | AsyncIterator<T>

/** What `valueIfFulfilled` gives for a future without a value yet (or without one ever). */
const NO_VALUE: unique symbol = Symbol('no value')

/**
 * The iterator `Executor.map` returns. It pulls items lazily, keeps at most `maxInFlight`
 * items submitted ahead of the consumer, yields results in input order, and on the first
 * failure (or the deadline) cancels everything still outstanding.
 *
 * It is hand-written rather than an async generator so that no result is awaited twice and
 * nothing is submitted after the consumer stops. `next` answers at once, with no promise of its
 * own, when the result it owes is known already (buffered from a chunk, or its future finished
 * with a value): results come in batches, so that is most of them. Only then does it await.
 *
 * The outstanding tasks are a queue of futures (`#futures` from `#head` on) with their item
 * counts alongside (`#counts`: 1 per task, the chunk's length when `chunksize` > 1), two flat
 * arrays rather than an object per task.
 */
export class MapIterator<T, R> implements AsyncIterableIterator<R> {
  readonly #source: Source<T>
  readonly #sync: boolean
  /** Submits a batch of items; the array is the callee's to keep (it is used here no more). */
  readonly #submit: (batch: T[]) => Future<unknown>
  /** Whether each task is a chunk (`chunksize` > 1), whose result is `ChunkOutcome`. */
  readonly #chunk: boolean
  readonly #chunksize: number
  readonly #maxInFlight: number
  readonly #deadline: number | undefined
  readonly #timeoutMs: number | undefined

  #futures: Future<unknown>[] = []
  #counts: number[] = []
  #head = 0
  #inFlight = 0
  #buffered: unknown[] = []
  #bufferedHead = 0
  #bufferedError: Error | undefined
  #sourceDone = false
  #sourceError: { error: unknown } | undefined
  #pulling = false
  #finished = false
  #wake: (() => void) | undefined

  constructor(
    items: Iterable<T> | AsyncIterable<T>,
    options: MapOptions & { chunksize: number; maxInFlight: number },
    submit: (batch: T[]) => Future<unknown>,
  ) {
    const asyncIt = (items as AsyncIterable<T>)[Symbol.asyncIterator]
    this.#sync = typeof asyncIt !== 'function'
    this.#source = this.#sync
      ? (items as Iterable<T>)[Symbol.iterator]()
      : (items as AsyncIterable<T>)[Symbol.asyncIterator]()
    this.#submit = submit
    this.#chunksize = options.chunksize
    this.#chunk = options.chunksize > 1
    this.#maxInFlight = Math.max(options.maxInFlight, options.chunksize)
    this.#timeoutMs = options.timeoutMs
    this.#deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs
    // Work starts at the call, as in Python, not at the first next().
    this.#fill()
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<R>> {
    const ready = this.#poll()
    if (ready === undefined) return this.#await()
    return ready instanceof Error ? Promise.reject(ready) : Promise.resolve(ready)
  }

  /**
   * The result `next` owes if it is known now, without waiting: a buffered one, the end, or the
   * value of the next task if its future has one; or a chunk's failure, which stopped the map.
   * `undefined`: the next task is unfinished or failed, or none is outstanding; `#await` takes
   * it from there.
   */
  #poll(): IteratorResult<R> | Error | undefined {
    for (;;) {
      if (this.#bufferedHead < this.#buffered.length) {
        return { value: this.#buffered[this.#bufferedHead++] as R, done: false }
      }
      if (this.#bufferedError) {
        const error = this.#bufferedError
        this.#bufferedError = undefined
        this.#stop()
        return error
      }
      if (this.#finished) return { value: undefined, done: true }
      if (this.#head >= this.#futures.length) return undefined
      const value = valueIfFulfilled(this.#futures[this.#head]!, NO_VALUE)
      if (value === NO_VALUE) return undefined
      this.#shift()
      if (!this.#chunk) return { value: value as R, done: false }
      this.#unpack(value as ChunkOutcome)
    }
  }

  /** `next` when it must wait: for a task to be submitted, or for its future. */
  async #await(): Promise<IteratorResult<R>> {
    for (;;) {
      // A future travels by value here, never through a promise (which would adopt its result).
      while (this.#head >= this.#futures.length) {
        if (!(await this.#untilTask())) {
          this.#finished = true
          return { value: undefined, done: true }
        }
      }
      const future = this.#shift()
      let value: unknown
      try {
        value = await this.#resultOf(future)
      } catch (error) {
        this.#stop()
        throw error
      }
      if (!this.#chunk) return { value: value as R, done: false }
      this.#unpack(value as ChunkOutcome)
      const ready = this.#poll()
      if (ready instanceof Error) throw ready
      if (ready !== undefined) return ready
    }
  }

  /** Buffers a chunk's results, and the error of the item after them if one failed. */
  #unpack(outcome: ChunkOutcome): void {
    this.#buffered = outcome.v
    this.#bufferedHead = 0
    if (outcome.e) this.#bufferedError = deserializeError(outcome.e)
  }

  async return(): Promise<IteratorResult<R>> {
    this.#stop()
    return { value: undefined, done: true }
  }

  async throw(error?: unknown): Promise<IteratorResult<R>> {
    this.#stop()
    throw error
  }

  /** Takes the next outstanding task off the queue (and submits more in its place). */
  #shift(): Future<unknown> {
    const head = this.#head
    const future = this.#futures[head]!
    this.#futures[head] = undefined as unknown as Future<unknown>
    this.#inFlight -= this.#counts[head]!
    this.#head = head + 1
    if (this.#head > 1024 && this.#head * 2 > this.#futures.length) {
      this.#futures = this.#futures.slice(this.#head)
      this.#counts = this.#counts.slice(this.#head)
      this.#head = 0
    }
    this.#fill()
    return future
  }

  /** Resolves `true` once a task is outstanding, `false` once the source is done. */
  async #untilTask(): Promise<boolean> {
    for (;;) {
      if (this.#head < this.#futures.length) return true
      if (this.#sourceError) {
        const { error } = this.#sourceError
        this.#stop()
        throw error
      }
      if (this.#sourceDone) return false
      this.#fill()
      await this.#waitForWork()
    }
  }

  #waitForWork(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      this.#wake = () => {
        if (timer) clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const remaining = this.#remaining()
      if (remaining !== undefined) {
        timer = setTimeout(() => {
          this.#wake = undefined
          this.#stop()
          reject(this.#timeoutError())
        }, remaining)
      }
    })
  }

  #resultOf(future: Future<unknown>): Promise<unknown> {
    const remaining = this.#remaining()
    return remaining === undefined ? future.result() : this.#resultWithin(future, remaining)
  }

  async #resultWithin(future: Future<unknown>, remaining: number): Promise<unknown> {
    try {
      return await future.result(remaining)
    } catch (error) {
      if (error instanceof TimeoutError && !future.done()) throw this.#timeoutError()
      throw error
    }
  }

  #remaining(): number | undefined {
    return this.#deadline === undefined ? undefined : Math.max(0, this.#deadline - Date.now())
  }

  #timeoutError(): TimeoutError {
    return new TimeoutError(`map did not finish within timeoutMs (${this.#timeoutMs} ms)`)
  }

  /** Submits items until `maxInFlight` are outstanding or the source runs dry. */
  #fill(): void {
    if (this.#pulling || this.#finished || this.#sourceDone || this.#sourceError) return
    if (this.#sync) {
      this.#fillSync()
    } else {
      this.#pulling = true
      // #fillAsync catches its own errors into #sourceError; nothing here can reject.
      void this.#fillAsync().finally(() => {
        this.#pulling = false
      })
    }
  }

  #fillSync(): void {
    const source = this.#source as Iterator<T>
    try {
      while (this.#inFlight < this.#maxInFlight) {
        if (!this.#chunk) {
          // One item per task: a list of exactly one, not an empty one grown by push.
          const step = source.next()
          if (step.done) {
            this.#sourceDone = true
            break
          }
          this.#push([step.value])
          continue
        }
        const batch: T[] = []
        while (batch.length < this.#chunksize) {
          const step = source.next()
          if (step.done) {
            this.#sourceDone = true
            break
          }
          batch.push(step.value)
        }
        if (batch.length > 0) this.#push(batch)
        if (this.#sourceDone) break
      }
    } catch (error) {
      this.#sourceError = { error }
    }
    this.#wake?.()
  }

  async #fillAsync(): Promise<void> {
    const source = this.#source as AsyncIterator<T>
    try {
      while (this.#inFlight < this.#maxInFlight && !this.#finished) {
        const batch: T[] = []
        while (batch.length < this.#chunksize) {
          const step = await source.next()
          if (step.done) {
            this.#sourceDone = true
            break
          }
          batch.push(step.value)
        }
        if (this.#finished) return
        if (batch.length > 0) this.#push(batch)
        this.#wake?.()
        if (this.#sourceDone) break
      }
    } catch (error) {
      this.#sourceError = { error }
    }
    this.#wake?.()
  }

  #push(batch: T[]): void {
    const count = batch.length
    let future: Future<unknown>
    try {
      future = this.#submit(batch)
    } catch (error) {
      this.#sourceError = { error }
      return
    }
    this.#futures.push(future)
    this.#counts.push(count)
    this.#inFlight += count
  }

  /** Cancels what is outstanding and stops pulling from the source. */
  #stop(): void {
    if (this.#finished) return
    this.#finished = true
    for (let i = this.#head; i < this.#futures.length; i++) this.#futures[i]?.cancel()
    this.#futures = []
    this.#counts = []
    this.#head = 0
    this.#buffered = []
    this.#bufferedHead = 0
    if (!this.#sourceDone) {
      this.#sourceDone = true
      try {
        const r = this.#source.return?.()
        if (r instanceof Promise) r.catch(() => {})
      } catch {
        // The source's own cleanup failed; nothing more to do for it.
      }
    }
  }
}
