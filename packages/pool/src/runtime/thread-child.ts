import { Worker } from 'node:worker_threads'

import { ProtocolError } from '@clusterpool/protocol'

import { createBatchEncoder, createParentBatchDecoder } from '../batch-codec.js'
import type { ToChild, ToParent } from '../messages.js'
import { threadEntry } from './entry-path.js'
import type { ChildExit, ChildHandle, ChildHandleEvents } from './child-handle.js'

export interface ThreadChildOptions {
  readonly execArgv: readonly string[]
  readonly env: Readonly<Record<string, string>> | undefined
  readonly memoryLimitMb: number | undefined
}

/**
 * A worker thread running `thread-entry`. Batches are msgpack bytes whose buffers are
 * transferred both ways. Node delivers every message a thread posted before its `exit` event.
 */
export class ThreadChild implements ChildHandle {
  readonly kind = 'thread'
  readonly pid = process.pid
  readonly #worker: Worker | undefined
  readonly #events: ChildHandleEvents
  readonly #encoder = createBatchEncoder()
  readonly #decoder = createParentBatchDecoder()
  #error: Error | undefined
  #ended = false

  constructor(options: ThreadChildOptions, events: ChildHandleEvents) {
    this.#events = events
    const entry = threadEntry()
    try {
      this.#worker = new Worker(entry.filename, {
        eval: entry.eval,
        ...(options.execArgv.length > 0 ? { execArgv: [...options.execArgv] } : {}),
        ...(options.env !== undefined ? { env: { ...process.env, ...options.env } } : {}),
        ...(options.memoryLimitMb !== undefined
          ? { resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb } }
          : {}),
      })
    } catch (error) {
      // Bad execArgv, say: report it as a thread that ended at once.
      this.#error = error as Error
      setImmediate(() => this.#end(null))
      return
    }
    this.#worker.on('message', (bytes: Uint8Array) => this.#onMessage(bytes))
    this.#worker.on('error', (error) => {
      this.#error ??= error
    })
    this.#worker.on('exit', (code) => this.#end(code))
  }

  get threadId(): number | undefined {
    return this.#worker?.threadId
  }

  send(messages: readonly ToChild[]): void {
    if (this.#ended || this.#worker === undefined) return
    const bytes = new Uint8Array(this.#encoder.encode(messages))
    this.#worker.postMessage(bytes, [bytes.buffer])
  }

  kill(): void {
    if (!this.#ended) void this.#worker?.terminate()
  }

  setRef(ref: boolean): void {
    if (ref) this.#worker?.ref()
    else this.#worker?.unref()
  }

  #onMessage(bytes: Uint8Array): void {
    if (this.#ended) return
    let messages: ToParent[]
    try {
      messages = this.#decoder.decode(bytes)
    } catch (error) {
      this.#error ??= new ProtocolError(`a pool thread sent a malformed batch; it was stopped`, {
        cause: error,
      })
      this.kill()
      return
    }
    this.#events.onMessages(messages)
  }

  #end(code: number | null): void {
    if (this.#ended) return
    this.#ended = true
    const exit: ChildExit = { code, signal: null, error: this.#error }
    this.#events.onExit(exit)
  }
}
