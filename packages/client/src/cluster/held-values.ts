import type { ClientToCoordinator } from '@clusterpool/protocol'
import type { MessageSink } from '@clusterpool/transport'

import type { Future } from '../future/future.js'
import { setDemandHandler } from '../future/internal.js'

/**
 * A `ClusterExecutor`'s finished tasks whose value stays on a worker (over the coordinator's
 * `holdResultsOverBytes`), from the `results` item that says so until the value is fetched or
 * dropped:
 *
 * ```text
 *   kept ──someone wants it (await, result(), done()…)──▶ gathering ──results / errors──▶ answered
 *     └──the future is garbage collected──▶ released (the coordinator is told)
 * ```
 *
 * While kept, the future is held weakly (nobody waits for it, so nothing else holds it for the
 * executor). After a reconnect both kinds are claimed back in the resume hello, and what was
 * being gathered is asked for again.
 */
export class HeldValues {
  readonly #link: MessageSink<ClientToCoordinator>
  /** Puts a demanded future back among the executor's unfinished ones, under its id. */
  readonly #refetch: (id: number, future: Future<unknown>) => void
  /** Kept values nobody has asked for yet, by id. */
  readonly #kept = new Map<number, WeakRef<Future<unknown>>>()
  readonly #collected = new FinalizationRegistry<number>((id) => {
    if (this.#kept.delete(id) && !this.#link.closed) this.#link.pushItem('release', 'ids', id)
  })
  /** Demanded and not yet answered. */
  readonly #gathering = new Set<number>()

  constructor(
    link: MessageSink<ClientToCoordinator>,
    refetch: (id: number, future: Future<unknown>) => void,
  ) {
    this.#link = link
    this.#refetch = refetch
  }

  /** Task `id` finished and its value stays on a worker: fetch it once someone wants it. */
  keep(id: number, future: Future<unknown>): void {
    this.#kept.set(id, new WeakRef(future))
    this.#collected.register(future, id, future)
    setDemandHandler(future, () => {
      this.#kept.delete(id)
      this.#collected.unregister(future)
      if (this.#link.closed) return
      this.#refetch(id, future)
      this.#gathering.add(id)
      this.#link.pushItem('gather', 'ids', id)
    })
  }

  /** Task `id` has its answer (a value, an error, or held again): no longer being gathered. */
  answered(id: number): void {
    if (this.#gathering.size > 0) this.#gathering.delete(id)
  }

  /** What a resume hello claims back: the values being gathered, and those kept for a live future. */
  claims(): Set<number> {
    const held = new Set(this.#gathering)
    for (const [id, ref] of this.#kept) if (ref.deref() !== undefined) held.add(id)
    return held
  }

  /** Welcomed again: asks again for the values being gathered. */
  regather(): void {
    for (const id of this.#gathering) this.#link.pushItem('gather', 'ids', id)
  }

  /** The connection is gone for good: every kept future that is still referred to fails. */
  fail(error: Error): void {
    this.#gathering.clear()
    for (const ref of this.#kept.values()) {
      const future = ref.deref()
      if (future && !future.done()) future.setException(error)
    }
    this.#kept.clear()
  }
}
