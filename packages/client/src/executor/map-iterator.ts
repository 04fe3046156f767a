import { TimeoutError, deserializeError, type ChunkOutcome } from '@clusterpool/protocol'

import type { Future } from '../future/future.js'
import type { MapOptions } from './executor.js'

interface Slot {
  future: Future<unknown>
  /** Number of items in the slot; a chunk task when `chunk` is true. */
  count: number
  chunk: boolean
}

type Source<T> = Iterator<T> | AsyncIterator<T>

/**
 * The iterator `Executor.map` returns. It pulls items lazily, keeps at most `maxInFlight`
 * items submitted ahead of the consumer, yields results in input order, and on the first
 * failure (or the deadline) cancels everything still outstanding.
 *
 * It is hand-written rather than an async generator so that no result is awaited twice and
 * nothing is submitted after the consumer stops.
 */
export class MapIterator<T, R> implements AsyncIterableIterator<R> {
  readonly #source: Source<T>
  readonly #sync: boolean
  readonly #submit: (batch: T[]) => Future<unknown>
  readonly #chunksize: number
  readonly #maxInFlight: number
  readonly #deadline: number | undefined
  readonly #timeoutMs: number | undefined

  #slots: Slot[] = []
  #slotHead = 0
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
    this.#maxInFlight = Math.max(options.maxInFlight, options.chunksize)
    this.#timeoutMs = options.timeoutMs
    this.#deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs
    // Work starts at the call, as in Python, not at the first next().
    this.#fill()
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  async next(): Promise<IteratorResult<R>> {
    for (;;) {
      if (this.#bufferedHead < this.#buffered.length) {
        return { value: this.#buffered[this.#bufferedHead++] as R, done: false }
      }
      if (this.#bufferedError) {
        const error = this.#bufferedError
        this.#bufferedError = undefined
        this.#stop()
        throw error
      }
      if (this.#finished) return { value: undefined, done: true }
      const slot = await this.#nextSlot()
      if (slot === undefined) {
        this.#finished = true
        return { value: undefined, done: true }
      }
      let value: unknown
      try {
        value = await this.#resultOf(slot.future)
      } catch (error) {
        this.#stop()
        throw error
      }
      if (!slot.chunk) return { value: value as R, done: false }
      const outcome = value as ChunkOutcome
      this.#buffered = outcome.v
      this.#bufferedHead = 0
      if (outcome.e) this.#bufferedError = deserializeError(outcome.e)
    }
  }

  async return(): Promise<IteratorResult<R>> {
    this.#stop()
    return { value: undefined, done: true }
  }

  async throw(error?: unknown): Promise<IteratorResult<R>> {
    this.#stop()
    throw error
  }

  async #nextSlot(): Promise<Slot | undefined> {
    for (;;) {
      if (this.#slotHead < this.#slots.length) {
        const slot = this.#slots[this.#slotHead]!
        this.#slots[this.#slotHead++] = undefined as unknown as Slot
        if (this.#slotHead > 1024 && this.#slotHead * 2 > this.#slots.length) {
          this.#slots = this.#slots.slice(this.#slotHead)
          this.#slotHead = 0
        }
        this.#inFlight -= slot.count
        this.#fill()
        return slot
      }
      if (this.#sourceError) {
        const { error } = this.#sourceError
        this.#stop()
        throw error
      }
      if (this.#sourceDone) return undefined
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

  async #resultOf(future: Future<unknown>): Promise<unknown> {
    const remaining = this.#remaining()
    if (remaining === undefined) return future.result()
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
    let future: Future<unknown>
    try {
      future = this.#submit(batch)
    } catch (error) {
      this.#sourceError = { error }
      return
    }
    this.#slots.push({ future, count: batch.length, chunk: this.#chunksize > 1 })
    this.#inFlight += batch.length
  }

  /** Cancels what is outstanding and stops pulling from the source. */
  #stop(): void {
    if (this.#finished) return
    this.#finished = true
    for (let i = this.#slotHead; i < this.#slots.length; i++) this.#slots[i]?.future.cancel()
    this.#slots = []
    this.#slotHead = 0
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
