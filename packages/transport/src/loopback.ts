import type { Message } from '@clusterpool/protocol'
import type { ConnectionHandlers } from './connection.js'
import { Outbox, type ItemOf, type ItemsKey, type MessageSink } from './outbox.js'

/**
 * One end of an in-process link: the same interface as a WebSocket `Connection`, but messages
 * are handed to the other end as objects, coalesced per tick, without encoding. An in-process
 * client of an embedded coordinator talks to it this way, and tests use it in place of a socket.
 */
export class LoopbackEnd<In extends Message, Out extends Message> implements MessageSink<Out> {
  #peer: LoopbackEnd<Out, In> | undefined
  #handlers: ConnectionHandlers<In> | undefined
  #closed = false
  readonly #outbox = new Outbox<Out>(() => this.flush())

  get closed(): boolean {
    return this.#closed
  }

  setHandlers(handlers: ConnectionHandlers<In>): void {
    this.#handlers = handlers
  }

  send(message: Out): void {
    if (!this.#closed) this.#outbox.push(message)
  }

  pushItem<M extends Out, F extends ItemsKey<M>>(
    kind: M['kind'],
    field: F,
    item: ItemOf<M, F>,
  ): void {
    if (!this.#closed) this.#outbox.pushItem(kind, field as string, item)
  }

  flush(): void {
    if (this.#closed || this.#outbox.size === 0) return
    const messages = this.#outbox.take()
    const peer = this.#peer
    if (peer !== undefined) peer.#handlers?.onMessages(messages)
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    this.#handlers?.onClose(code, reason)
    this.#peer?.close(code, reason)
  }

  /** Two connected ends. */
  static pair<A extends Message, B extends Message>(): [LoopbackEnd<A, B>, LoopbackEnd<B, A>] {
    const a = new LoopbackEnd<A, B>()
    const b = new LoopbackEnd<B, A>()
    a.#peer = b
    b.#peer = a
    return [a, b]
  }
}
