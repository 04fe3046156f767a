import {
  CloseCode,
  ProtocolError,
  closeReason,
  createDecoder,
  createEncoder,
  decodeFrame,
  encodeFrame,
  type Decoder,
  type Direction,
  type Encoder,
  type FrameError,
  type Message,
  type MessagesByDirection,
} from '@clusterpool/protocol'
import type WebSocket from 'ws'

import { Outbox, type ItemOf, type ItemsKey, type MessageSink, type OfKind } from './outbox.js'

/** Receives what arrives on a connection. */
export interface ConnectionHandlers<In> {
  /** One decoded, validated frame's messages, in order. */
  onMessages(messages: In[]): void
  /** The socket closed (by either side). Called once. */
  onClose(code: number, reason: string): void
  /**
   * A frame broke the protocol (the connection is being closed with `CloseCode.PROTOCOL`), or
   * this side failed to handle or encode one (closed with `CloseCode.INTERNAL`).
   */
  onProtocolError?(error: FrameError): void
}

export interface ConnectionOptions {
  /** Largest frame the peer accepts; batches are split below it. Bytes; default 16 MiB. */
  maxFrameBytes?: number
  /** Stop flushing while the socket holds more than this unsent. Bytes; default 8 MiB. */
  highWaterMark?: number
  /** Called for every frame received, with its size in bytes (before it is decoded); for metrics. */
  onFrameIn?: (bytes: number) => void
}

/**
 * A WebSocket carrying msgpack frames of clusterpool messages, one per direction pair.
 *
 * Sending coalesces: messages queue in an outbox that is flushed once per tick (see `Outbox` for
 * when) as few frames as fit under the peer's limit, and `pushItem` appends to the last queued
 * message of the same kind, so a thousand results in one tick travel as one `results` message.
 * While the socket's `bufferedAmount` is over the high-water mark, the outbox waits and
 * `congested` is true, which producers use to hold work back.
 *
 * Receiving: each connection has its own decoder (no msgpackr state shared across peers);
 * every frame is validated, and a bad one closes only this connection with a clear code.
 */
export class Connection<D extends Direction, Out extends Message> implements MessageSink<Out> {
  readonly ws: WebSocket
  readonly #encoder: Encoder = createEncoder()
  readonly #decoder: Decoder = createDecoder()
  #maxFrameBytes: number
  readonly #highWaterMark: number
  readonly #onFrameIn: ((bytes: number) => void) | undefined
  #handlers: ConnectionHandlers<MessagesByDirection[D]>
  #direction: D
  readonly #outbox = new Outbox<Out>(() => this.flush())
  #waitingForDrain = false
  #closed = false
  /** When the peer was last heard from (any frame or pong), for `keepAlive`. Date.now() ms. */
  #lastHeard = Date.now()
  #drainListeners: (() => void)[] = []
  #held:
    { messages: MessagesByDirection[D][]; close?: { code: number; reason: string } } | undefined
  /** Bytes and frames sent and received, for metrics. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 }

  constructor(
    ws: WebSocket,
    direction: D,
    handlers: ConnectionHandlers<MessagesByDirection[D]>,
    options: ConnectionOptions = {},
  ) {
    this.ws = ws
    this.#direction = direction
    this.#handlers = handlers
    this.#maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024
    this.#highWaterMark = options.highWaterMark ?? 8 * 1024 * 1024
    this.#onFrameIn = options.onFrameIn
    ws.binaryType = 'nodebuffer'
    ws.on('message', (data, isBinary) => {
      this.#lastHeard = Date.now()
      this.#receive(data, isBinary)
    })
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()))
    ws.on('error', () => {
      // 'close' follows every 'error'; the reason is reported there.
    })
  }

  /** True while the socket is backed up; producers should hold work back. */
  get congested(): boolean {
    return this.#waitingForDrain || this.ws.bufferedAmount > this.#highWaterMark
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * Stops reading from the socket (frames already read may still arrive): the receiver holds
   * back a peer that sends faster than it handles, and the kernel's buffers push back on the
   * peer. While paused the peer counts as alive: its pongs wait unread behind its own frames.
   */
  pauseReading(): void {
    if (!this.#closed) this.ws.pause()
  }

  /** Reads again after `pauseReading`. */
  resumeReading(): void {
    this.#lastHeard = Date.now()
    if (!this.#closed) this.ws.resume()
  }

  /** Replaces the handlers, for example once a handshake is over; delivers what was held. */
  setHandlers(handlers: ConnectionHandlers<MessagesByDirection[D]>): void {
    this.#handlers = handlers
    const held = this.#held
    if (held === undefined) return
    this.#held = undefined
    if (held.messages.length > 0) handlers.onMessages(held.messages)
    if (held.close) handlers.onClose(held.close.code, held.close.reason)
  }

  /**
   * Holds `messages`, and everything that arrives after them (a close too), until the next
   * `setHandlers`. The handshake uses it: messages the peer sent right behind its `welcome`
   * (in the same frame, or in frames that arrive before the caller installs its handlers)
   * belong to the caller and must not be lost.
   */
  holdUntilHandlers(messages: MessagesByDirection[D][]): void {
    this.#held = { messages: [...messages] }
  }

  /** Queues a message; it leaves with the next flush (see `MessageSink.send`). */
  send(message: Out): void {
    if (this.#closed) return
    this.#outbox.push(message)
  }

  /**
   * Appends `item` to the `field` list of the last queued message if it is of `kind`, or
   * queues `{ kind, [field]: [item] }`. Keeps order across kinds, except that `running` items
   * join the queued `running` message (see `Outbox`).
   */
  pushItem<K extends Out['kind'], F extends ItemsKey<OfKind<Out, K>>>(
    kind: K,
    field: F,
    item: ItemOf<OfKind<Out, K>, F>,
  ): void {
    if (this.#closed) return
    this.#outbox.pushItem(kind, field as string, item)
  }

  /** Frames sent from now on are at most `maxBytes` (at least 1 KiB), lists split to fit. */
  limitFrames(maxBytes: number): void {
    this.#maxFrameBytes = Math.min(this.#maxFrameBytes, Math.max(1024, maxBytes))
  }

  /** Calls `listener` once the socket is no longer congested. */
  onceDrained(listener: () => void): void {
    if (!this.congested) {
      listener()
      return
    }
    this.#drainListeners.push(listener)
  }

  /** Sends what is queued now. */
  flush(): void {
    if (this.#closed || this.#outbox.size === 0) return
    if (this.ws.readyState !== this.ws.OPEN) return
    if (this.#waitingForDrain || this.ws.bufferedAmount > this.#highWaterMark) {
      this.#waitForDrain()
      return
    }
    const messages = this.#outbox.take()
    try {
      const frame = encodeFrame(this.#encoder, messages)
      if (frame.byteLength <= this.#maxFrameBytes) this.#sendFrame(frame)
      else for (const part of this.#split(messages)) this.#sendFrame(part)
    } catch (error) {
      this.#fail('encoding a frame to send', error)
      return
    }
    if (this.ws.bufferedAmount > this.#highWaterMark) this.#waitForDrain()
  }

  #sendFrame(frame: Uint8Array): void {
    this.stats.framesOut++
    this.stats.bytesOut += frame.byteLength
    this.ws.send(frame, BINARY)
  }

  /** Flushes what is queued, then closes with `code` and a reason (truncated to fit a close frame). */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.#closed) return
    this.flush()
    this.ws.close(code, closeReason(reason))
  }

  /**
   * Pings the peer every `intervalMs` and terminates the connection when no pong came for
   * `timeoutMs`: a partition or a frozen host leaves a TCP connection open but dead, and
   * nothing else would notice. Stops when the connection closes.
   */
  keepAlive(intervalMs: number, timeoutMs: number, onDead?: (silentMs: number) => void): void {
    this.#lastHeard = Date.now()
    // A pong, or a ping of the peer's own keepAlive: either says the peer is alive.
    this.ws.on('pong', () => (this.#lastHeard = Date.now()))
    this.ws.on('ping', () => (this.#lastHeard = Date.now()))
    let lastRun = Date.now()
    const timer = setInterval(() => {
      if (this.#closed) {
        clearInterval(timer)
        return
      }
      // A run far later than its interval means this process stalled (a long synchronous
      // stretch): timers run before the reads that were waiting, so the peer's frames are
      // there, unread. Judge its silence on the next, timely run.
      const now = Date.now()
      const late = now - lastRun > 2 * intervalMs + 1000
      lastRun = now
      if (late) return
      if (this.ws.isPaused) {
        this.#lastHeard = now // not reading: its silence says nothing
        return
      }
      // Any frame counts as a sign of life, not only pongs: a pong can sit behind a large
      // backlog the peer is still sending (a client submitting a million tasks in one loop).
      const silentMs = Date.now() - this.#lastHeard
      if (silentMs > timeoutMs) {
        clearInterval(timer)
        onDead?.(silentMs)
        this.terminate()
        return
      }
      if (this.ws.readyState === this.ws.OPEN) this.ws.ping()
    }, intervalMs)
    timer.unref()
  }

  /** Closes at once without a handshake (dead peers). */
  terminate(): void {
    this.ws.terminate()
  }

  #waitForDrain(): void {
    if (this.#waitingForDrain) return
    this.#waitingForDrain = true
    // ws has no 'drain' event of its own: poll bufferedAmount on a short timer while backed up
    // (only then, so an idle or flowing connection costs no timer).
    const poll = setInterval(() => {
      if (this.#closed || this.ws.bufferedAmount <= this.#highWaterMark / 2) {
        clearInterval(poll)
        this.#waitingForDrain = false
        const listeners = this.#drainListeners
        this.#drainListeners = []
        for (const l of listeners) l()
        if (this.#outbox.size > 0) this.#outbox.schedule()
      }
    }, 5)
    poll.unref()
  }

  /** Encodes messages as frames under the size limit, splitting long batches as needed. */
  *#frames(messages: Out[]): Generator<Uint8Array> {
    const frame = encodeFrame(this.#encoder, messages)
    if (frame.byteLength <= this.#maxFrameBytes) {
      yield frame
      return
    }
    yield* this.#split(messages)
  }

  /** Frames for messages that encode over the size limit together (rare: the slow path). */
  *#split(messages: Out[]): Generator<Uint8Array> {
    if (messages.length > 1) {
      const half = messages.length >> 1
      yield* this.#frames(messages.slice(0, half))
      yield* this.#frames(messages.slice(half))
      return
    }
    const parts = splitMessage(messages[0] as Out)
    if (parts === undefined) {
      // One indivisible message over the limit: the peer will refuse it; senders check sizes
      // of single values (frameTooLarge) before queueing, so this is a bug if it happens.
      yield encodeFrame(this.#encoder, messages)
      return
    }
    for (const part of parts) yield* this.#frames([part])
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closed) return
    if (!isBinary) {
      this.#protocolError(
        new ProtocolError('text frames are not part of the protocol; frames are binary msgpack'),
      )
      return
    }
    // binaryType 'nodebuffer': one Buffer, or its fragments. The Buffer is the frame's own
    // (ws hands over a view of what it read, never reused), so it is decoded in place.
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data)
    this.stats.framesIn++
    this.stats.bytesIn += bytes.byteLength
    this.#onFrameIn?.(bytes.byteLength)
    const decoded = decodeFrame(this.#decoder, bytes, this.#direction)
    if (!decoded.ok) {
      this.#protocolError(decoded.error)
      return
    }
    if (this.#held) this.#held.messages.push(...decoded.messages)
    else {
      try {
        this.#handlers.onMessages(decoded.messages)
      } catch (error) {
        this.#fail('handling a frame it received', error)
      }
    }
  }

  /**
   * A frame that this side cannot handle or encode closes only this connection, with
   * `CloseCode.INTERNAL` and a reason, instead of throwing out of a socket or timer callback
   * (which would end the process, and every other peer's work with it).
   */
  #fail(what: string, error: unknown): void {
    const reason =
      error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : 'a non-error value'
    const failure = new ProtocolError(`closed the connection after ${what} failed: ${reason}`, {
      cause: error,
    })
    this.#handlers.onProtocolError?.(failure)
    this.#outbox.clear()
    if (this.#closed) return
    this.ws.close(CloseCode.INTERNAL, closeReason(failure.message))
  }

  #protocolError(error: FrameError): void {
    this.#handlers.onProtocolError?.(error)
    this.close(CloseCode.PROTOCOL, error.message)
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return
    this.#closed = true
    this.#outbox.clear()
    const listeners = this.#drainListeners
    this.#drainListeners = []
    for (const l of listeners) l()
    if (this.#held) this.#held.close = { code, reason }
    else this.#handlers.onClose(code, reason)
  }
}

/** `ws.send` options of every frame: binary, never compressed (the server disables it anyway). */
const BINARY = { binary: true } as const

/** Splits a message with one long list field into two halves, or undefined if it has none. */
function splitMessage<M extends Message>(message: M): M[] | undefined {
  for (const [key, value] of Object.entries(message)) {
    if (Array.isArray(value) && value.length > 1) {
      const half = value.length >> 1
      return [
        { ...message, [key]: value.slice(0, half) },
        { ...message, [key]: value.slice(half) },
      ]
    }
  }
  return undefined
}
