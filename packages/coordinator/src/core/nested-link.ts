import { createEncoder, encodeFrame, type CoordinatorToClient } from '@clusterpool/protocol'
import {
  Outbox,
  type ItemOf,
  type ItemsKey,
  type MessageSink,
  type OfKind,
} from '@clusterpool/transport'

import type { WorkerSession } from './sessions.js'

const encoder = createEncoder()

/**
 * The link to a running task's executor: its messages are coalesced per tick like any client's,
 * then leave as one frame inside a `nested` item to the task's worker, which hands the frame to
 * the task. Closed when the task's run ends; what is sent after is dropped.
 */
export class NestedLink implements MessageSink<CoordinatorToClient> {
  readonly #key: string
  readonly #worker: WorkerSession
  readonly #outbox = new Outbox<CoordinatorToClient>(() => this.flush())
  #closed = false

  constructor(key: string, worker: WorkerSession) {
    this.#key = key
    this.#worker = worker
  }

  get closed(): boolean {
    return this.#closed || this.#worker.state === 'gone'
  }

  get congested(): boolean {
    return this.#worker.link.congested === true
  }

  onceDrained(listener: () => void): void {
    if (this.#worker.link.onceDrained) this.#worker.link.onceDrained(listener)
    else listener()
  }

  send(message: CoordinatorToClient): void {
    if (!this.closed) this.#outbox.push(message)
  }

  pushItem<
    K extends CoordinatorToClient['kind'],
    F extends ItemsKey<OfKind<CoordinatorToClient, K>>,
  >(kind: K, field: F, item: ItemOf<OfKind<CoordinatorToClient, K>, F>): void {
    if (!this.closed) this.#outbox.pushItem(kind, field as string, item)
  }

  flush(): void {
    if (this.closed || this.#outbox.size === 0) return
    const payload = encodeFrame(encoder, this.#outbox.take())
    this.#worker.link.pushItem('nested', 'items', { key: this.#key, payload })
  }

  close(): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    this.#outbox.clear()
  }
}
