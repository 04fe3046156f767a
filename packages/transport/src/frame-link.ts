import {
  createDecoder,
  createEncoder,
  decodeFrame,
  encodeFrame,
  type Direction,
  type Message,
  type MessagesByDirection,
} from '@clusterpool/protocol'

import type { ConnectionHandlers } from './connection.js'
import { Outbox, type ItemOf, type ItemsKey, type MessageSink, type OfKind } from './outbox.js'

/**
 * A link whose frames travel inside another channel as bytes: a running task's executor talks
 * to the coordinator this way, its frames riding in its pool's pipe and its worker's connection
 * (`TaskChannel`). Outgoing messages are coalesced per tick like a `Connection`'s and leave as
 * one encoded frame through `sendFrame`; incoming frames given to `receive` are decoded and
 * validated for `direction`, and a malformed one is dropped with `onProtocolError`.
 */
export class FrameLink<D extends Direction, Out extends Message> implements MessageSink<Out> {
  readonly #direction: D
  readonly #sendFrame: (frame: Uint8Array) => void
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #outbox = new Outbox<Out>(() => this.flush())
  #handlers: ConnectionHandlers<MessagesByDirection[D]> | undefined
  #closed = false

  constructor(direction: D, sendFrame: (frame: Uint8Array) => void) {
    this.#direction = direction
    this.#sendFrame = sendFrame
  }

  get closed(): boolean {
    return this.#closed
  }

  setHandlers(handlers: ConnectionHandlers<MessagesByDirection[D]>): void {
    this.#handlers = handlers
  }

  send(message: Out): void {
    if (!this.#closed) this.#outbox.push(message)
  }

  pushItem<K extends Out['kind'], F extends ItemsKey<OfKind<Out, K>>>(
    kind: K,
    field: F,
    item: ItemOf<OfKind<Out, K>, F>,
  ): void {
    if (!this.#closed) this.#outbox.pushItem(kind, field as string, item)
  }

  flush(): void {
    if (this.#closed || this.#outbox.size === 0) return
    this.#sendFrame(encodeFrame(this.#encoder, this.#outbox.take()))
  }

  /** One frame from the peer. */
  receive(frame: Uint8Array): void {
    if (this.#closed) return
    const decoded = decodeFrame(this.#decoder, frame, this.#direction)
    if (!decoded.ok) {
      this.#handlers?.onProtocolError?.(decoded.error)
      return
    }
    this.#handlers?.onMessages(decoded.messages)
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    this.#outbox.clear()
    this.#handlers?.onClose(code, reason)
  }
}
