import { ProtocolError, serializeError } from '@clusterpool/protocol'

import type { CoreState } from './core-state.js'
import type { ClientSession } from './sessions.js'
import { sendValue } from './values.js'

/**
 * Bytes of gathered values the coordinator queues for one client before it waits for the
 * client's socket to drain (`MessageSink.congested`, the connection's `bufferedAmount` under its
 * own high-water mark). Values being fetched from workers count at their reported size, so no
 * gather, however long, makes the coordinator hold much more than this for one client.
 */
export const GATHER_HIGH_WATER_BYTES = 16 * 2 ** 20

/**
 * One client's `gather` ids, answered in order under backpressure. An id already waiting here,
 * or answered already in the same batch of messages (one frame), is not queued again: `gather`
 * of one id 75,000 times, in one message or in many of one frame, sends the value once.
 *
 * ```
 *   add ──▶ queued ──pump──▶ answered (value, or error) ──▶ counted in flight
 *              ▲                                              │ past GATHER_HIGH_WATER_BYTES
 *              └──────── drained (socket under its mark) ◀──flush, wait
 * ```
 */
export class GatherQueue {
  readonly #s: CoreState
  readonly #client: ClientSession
  #ids: number[] = []
  #head = 0
  readonly #queued = new Set<number>()
  /** Ids answered since the current batch of the client's messages began (`newBatch`). */
  readonly #answered = new Set<number>()
  /** Bytes of answers queued on the link since it last drained. */
  #queuedBytes = 0
  /** Reported bytes of the values being fetched from workers for this client. */
  #fetchingBytes = 0
  #waiting = false
  #pumping = false

  constructor(s: CoreState, client: ClientSession) {
    this.#s = s
    this.#client = client
  }

  /** Ids waiting to be answered. */
  get size(): number {
    return this.#ids.length - this.#head
  }

  /** Queues `id` unless it is queued or was answered in this batch; then call `pump`. */
  add(id: number): void {
    if (this.#queued.has(id) || this.#answered.has(id)) return
    this.#queued.add(id)
    this.#ids.push(id)
  }

  /** Answers queued ids until the client's link has `GATHER_HIGH_WATER_BYTES` in flight. */
  pump(): void {
    if (this.#waiting || this.#pumping) return
    this.#pumping = true
    try {
      this.#run()
    } finally {
      this.#pumping = false
    }
  }

  /** A new batch of the client's messages begins: a gather of an id answered before is answered. */
  newBatch(): void {
    if (this.#answered.size > 0) this.#answered.clear()
  }

  /** The client left: nothing more is answered. */
  clear(): void {
    this.#ids = []
    this.#head = 0
    this.#queued.clear()
    this.#answered.clear()
  }

  #run(): void {
    const link = this.#client.link
    while (this.#head < this.#ids.length) {
      if (link.closed) return this.clear()
      if (this.#queuedBytes + this.#fetchingBytes >= GATHER_HIGH_WATER_BYTES) {
        // Fetches in flight resume the pump as they land; queued bytes must leave first.
        if (this.#queuedBytes === 0) return
        link.flush()
        if (link.congested === true && link.onceDrained) return this.#waitForDrain()
        this.#queuedBytes = 0
      } else if (link.congested === true && link.onceDrained) {
        return this.#waitForDrain()
      }
      const id = this.#ids[this.#head++]!
      this.#queued.delete(id)
      this.#answered.add(id)
      this.#answer(id)
    }
    this.#ids = []
    this.#head = 0
  }

  #waitForDrain(): void {
    this.#waiting = true
    this.#client.link.onceDrained!(() => {
      this.#waiting = false
      this.#queuedBytes = 0
      // Not from inside the drain callback's loop: the next turn.
      setImmediate(() => {
        try {
          this.pump()
        } catch (error) {
          this.#s.log.error(
            { err: error },
            'internal error answering a gather; the coordinator goes on',
          )
        }
      })
    })
  }

  #answer(id: number): void {
    const s = this.#s
    const client = this.#client
    const task = s.tasks.get(client.key(id))
    if (!task) {
      const error = new ProtocolError(
        `gather: task ${id} is unknown (released, or never submitted)`,
      )
      client.link.pushItem('errors', 'items', { id, error: serializeError(error) })
      return
    }
    const expected = task.value === undefined ? (s.scheduler.task(task.key)?.nbytes ?? 0) : 0
    this.#fetchingBytes += expected
    let inline = true
    sendValue(s, task, undefined, (bytes) => {
      this.#fetchingBytes -= expected
      this.#queuedBytes += bytes
      if (!inline) this.pump()
    })
    inline = false
  }
}
