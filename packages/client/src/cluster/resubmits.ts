import {
  DependencyError,
  type ClientToCoordinator,
  type FnRef,
  type ScatterItem,
  type SubmitTask,
  type WireFnRef,
} from '@clusterpool/protocol'
import type { MessageSink } from '@clusterpool/transport'

import type { Future } from '../future/future.js'
import { peek } from '../future/internal.js'
import { FutureSlot } from '../future/slot.js'

/** An unfinished task's submit, kept to send again after a reconnect. */
interface SubmitRecord {
  readonly kind: 'submit'
  /** As first sent (its `fn` may lack the source: `ref` has it). */
  readonly task: SubmitTask
  readonly ref: FnRef
  /** The futures its `deps` stand for, to find their values if they finished meanwhile. */
  readonly deps: readonly Future<unknown>[] | undefined
  /** The coordinator said it runs (`running`). */
  ran: boolean
}

/** A scatter not yet answered. */
interface ScatterRecord {
  readonly kind: 'scatter'
  readonly item: ScatterItem
}

/** What replaying needs from the executor. */
export interface ReplayContext {
  /** The executor's id of one of its futures. */
  idOf(future: Future<unknown>): number | undefined
  /** The function reference to send on the new connection (with its source the first time). */
  wireFn(ref: FnRef): WireFnRef
  /** Encodes the value of a finished dependency to scatter again; throws if it cannot. */
  encode(value: unknown): Uint8Array
  /** Fails the future of an unfinished task that cannot be sent again. */
  fail(id: number, error: Error): void
}

/**
 * The submits of a `ClusterExecutor`'s unfinished tasks (and its unanswered scatters), kept so
 * that a coordinator restart loses none of them: on resume they go out again, under the same
 * ids, in id order — which is dependency order, as a task can only depend on futures that
 * existed before it. Each record costs the encoded arguments (already made for the first send)
 * plus a small object; `map` keeps at most `maxInFlight` chunks unfinished, so a stream's share
 * is bounded by it.
 *
 * A record is kept on its task's future (a `FutureSlot`), not in a map of its own: the
 * executor's map of unfinished futures, in id order, is the list to replay, and a task costs no
 * second map entry (with the rehashes of a map that many tasks pass through).
 *
 * A dependency that finished meanwhile is not run again: a held one is claimed back (its worker
 * still has it), one whose value the client has is scattered again under its old id and
 * released after the submits (the coordinator keeps it while dependents need it), and a failed
 * one fails the dependent here, as the coordinator would have.
 */
export class Resubmits {
  readonly #records = new FutureSlot<SubmitRecord | ScatterRecord>('clusterpool.Resubmits.record')
  #size = 0

  get size(): number {
    return this.#size
  }

  submitted(
    future: Future<unknown>,
    task: SubmitTask,
    ref: FnRef,
    deps: readonly Future<unknown>[] | undefined,
  ): void {
    this.#keep(future, { kind: 'submit', task, ref, deps, ran: false })
  }

  scattered(future: Future<unknown>, item: ScatterItem): void {
    this.#keep(future, { kind: 'scatter', item })
  }

  /** The coordinator said the task runs. */
  ran(future: Future<unknown>): void {
    const r = this.#records.get(future)
    if (r?.kind === 'submit') r.ran = true
  }

  /** The task (or scatter) has its outcome, or was cancelled: nothing to send again. */
  settled(future: Future<unknown>): void {
    if (this.#records.get(future) === undefined) return
    this.#records.clear(future)
    this.#size--
  }

  /**
   * Sends everything again on `link` (a new connection, after its welcome). `unfinished` is the
   * executor's unfinished futures by id, in id order; `claimed` holds the ids whose values the
   * hello claimed back. Returns how many tasks and scatters went out.
   */
  replay(
    link: MessageSink<ClientToCoordinator>,
    unfinished: Iterable<readonly [number, Future<unknown>]>,
    claimed: ReadonlySet<number>,
    ctx: ReplayContext,
  ): number {
    const rescattered = new Set<number>()
    let sent = 0
    // Ids in insertion order are increasing: dependencies come first.
    for (const [id, future] of [...unfinished]) {
      const r = this.#records.get(future)
      if (r === undefined) continue
      if (r.kind === 'scatter') {
        link.pushItem('scatter', 'items', r.item)
        sent++
        continue
      }
      const failed = this.#resolveDeps(link, r, claimed, rescattered, ctx)
      if (failed) {
        this.settled(future)
        ctx.fail(id, failed)
        continue
      }
      const task: SubmitTask = { ...r.task, fn: ctx.wireFn(r.ref) }
      link.pushItem('submit', 'tasks', r.ran ? { ...task, ran: true } : task)
      sent++
    }
    for (const id of rescattered) link.pushItem('release', 'ids', id)
    return sent
  }

  #keep(future: Future<unknown>, record: SubmitRecord | ScatterRecord): void {
    if (this.#records.get(future) === undefined) this.#size++
    this.#records.set(future, record)
  }

  /** Makes sure every dependency of `r` is known to the new coordinator; an error if one failed. */
  #resolveDeps(
    link: MessageSink<ClientToCoordinator>,
    r: SubmitRecord,
    claimed: ReadonlySet<number>,
    rescattered: Set<number>,
    ctx: ReplayContext,
  ): Error | undefined {
    if (r.deps === undefined) return undefined
    for (const dep of r.deps) {
      const id = ctx.idOf(dep)
      if (
        id === undefined ||
        this.#records.get(dep) !== undefined ||
        claimed.has(id) ||
        rescattered.has(id)
      )
        continue
      const p = peek(dep)
      switch (p.state) {
        case 'fulfilled': {
          let value: Uint8Array
          try {
            value = ctx.encode(p.value)
          } catch (error) {
            return error as Error
          }
          link.pushItem('scatter', 'items', { id, value })
          rescattered.add(id)
          break
        }
        case 'rejected':
          return new DependencyError(String(dep), 'failed', { cause: p.error })
        case 'cancelled':
          return new DependencyError(String(dep), 'was cancelled')
        case 'pending':
        case 'running':
          break
      }
    }
    return undefined
  }
}
