import {
  createDecoder,
  createEncoder,
  deserializeError,
  encodeValue,
  fnLabel,
  shouldRetry,
  type SerializedError,
  type TaskOptions,
} from '@clusterpool/protocol'
import { TaskPool, type TaskPoolOptions } from '@clusterpool/pool'

import { Future } from '../future/future.js'
import { setAbortHandler } from '../future/internal.js'
import { BaseExecutor, type ScheduledCall } from '../executor/base-executor.js'

interface Entry {
  readonly future: Future<unknown>
  readonly call: ScheduledCall
  attempt: number
}

/**
 * An executor over a local `TaskPool` (processes or threads). It encodes arguments once, hands
 * tasks to the pool, and settles futures from the pool's events. Retries (`retries: n`) rerun a
 * task whose function threw.
 */
export class PoolExecutor extends BaseExecutor {
  readonly #pool: TaskPool
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #entries = new Map<number, Entry>()
  #nextId = 0

  protected constructor(options: TaskPoolOptions) {
    super()
    this.#pool = new TaskPool(options, {
      onStart: (id) => this.#onStart(id),
      onResult: (id, value) => this.#onResult(id, value),
      onError: (id, error) => this.#onError(id, error),
    })
  }

  /** Pool counters: queued, in flight, workers, completed, failed. */
  get stats(): TaskPool['stats'] {
    return this.#pool.stats
  }

  protected override unsupportedOptions(): readonly (keyof TaskOptions)[] {
    return ['resources', 'workers', 'allowOtherWorkers', 'priority']
  }

  protected schedule(call: ScheduledCall): Future<unknown> {
    const id = ++this.#nextId
    const future = new Future<unknown>(`${fnLabel(call.ref)}-${id}`)
    let args: Uint8Array
    try {
      args = encodeValue(this.#encoder, call.args, 'argument')
    } catch (error) {
      future.setException(error as Error)
      return future
    }
    const entry: Entry = { future, call, attempt: 1 }
    this.#entries.set(id, entry)
    future.addDoneCallback((f) => {
      if (f.cancelled() && this.#entries.delete(id)) this.#pool.cancel(id)
    })
    setAbortHandler(future, () => this.#pool.abort(id))
    this.#dispatch(id, entry, args)
    return future
  }

  #dispatch(id: number, entry: Entry, args: Uint8Array): void {
    this.#pool.submit({
      id,
      fn: entry.call.ref,
      args,
      attempt: entry.attempt,
      ...(entry.call.options.timeoutMs === undefined
        ? {}
        : { timeoutMs: entry.call.options.timeoutMs }),
      ...(entry.call.chunk ? { chunk: true } : {}),
    })
  }

  #onStart(id: number): void {
    const entry = this.#entries.get(id)
    if (entry && entry.attempt === 1 && !entry.future.setRunningOrNotifyCancel())
      this.#pool.abort(id)
  }

  #onResult(id: number, value: Uint8Array): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#entries.delete(id)
    let decoded: unknown
    try {
      decoded = this.#decoder.decode(asBuffer(value))
    } catch (error) {
      entry.future.setException(error as Error)
      return
    }
    entry.future.setResult(decoded)
  }

  #onError(id: number, error: SerializedError): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    if (shouldRetry(entry.call.options.retries, entry.attempt, { code: error.code })) {
      this.#entries.delete(id)
      const next = ++this.#nextId
      entry.attempt++
      this.#entries.set(next, entry)
      setAbortHandler(entry.future, () => this.#pool.abort(next))
      this.#dispatch(next, entry, encodeValue(this.#encoder, entry.call.args, 'argument'))
      return
    }
    this.#entries.delete(id)
    entry.future.setException(deserializeError(error))
  }

  protected cancelAll(): void {
    for (const entry of [...this.#entries.values()]) entry.future.cancel()
  }

  protected async close(wait: boolean): Promise<void> {
    const closing = this.#pool.close()
    if (wait) await closing
    else closing.catch(() => {})
  }
}

/**
 * A view of `bytes` as a Buffer: msgpackr decodes binary values as Buffers only from a Buffer,
 * and results from threads arrive as plain Uint8Arrays.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
