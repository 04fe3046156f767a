import { InvalidStateError } from '@clusterpool/protocol'

import type { Future } from '../future/future.js'
import { removeDoneCallback } from '../future/internal.js'
import { logError } from '../future/logger.js'
import { classifyDone } from './future-args.js'

/** One task waiting for futures in its arguments. */
interface Waiting {
  readonly deps: readonly Future<unknown>[]
  remaining: number
  readonly resume: () => void
  readonly onDepDone: (dep: Future<unknown>) => void
}

/**
 * An executor's tasks that wait, before they are scheduled, for futures in their arguments that
 * the executor cannot hand on as dependencies: every unfinished one for a local pool, another
 * executor's for a cluster. The task's future exists from `submit` on, and is the one the
 * executor settles when the task runs.
 *
 * ```
 *   waiting ──every future done──▶ resumed (scheduled on the executor, with their values)
 *      ├──one failed or was cancelled──▶ failed (DependencyError naming it)
 *      └──its own future cancelled──▶ dropped
 * ```
 *
 * `idle()` lets shutdown wait until none is left waiting, so a task submitted before
 * `shutdown()` still runs (as in `concurrent.futures`) rather than find the workers gone.
 */
export class Dependents {
  readonly #waiting = new Map<Future<unknown>, Waiting>()
  #idle: (() => void)[] = []
  /**
   * Settlements and resumptions not done yet. A future's done callbacks run inside the call
   * that settles it, so failing a chain of dependents one inside the other would nest a stack
   * frame per link (a chain of a few thousand overflows the stack); queued, they run one after
   * the other, however long the chain.
   */
  readonly #todo: (() => void)[] = []
  #draining = false

  /**
   * `future`'s task waits for `deps` (unfinished, distinct), then `resume` schedules it; a
   * `resume` that throws fails the future with that error.
   */
  wait(future: Future<unknown>, deps: readonly Future<unknown>[], resume: () => void): void {
    if (this.#waiting.has(future)) throw new InvalidStateError(`${future.key} waits already`)
    if (deps.length === 0) return this.#run(future, resume)
    const onDepDone = (dep: Future<unknown>): void => this.#depDone(future, dep)
    const w: Waiting = { deps, remaining: deps.length, resume, onDepDone }
    this.#waiting.set(future, w)
    future.addDoneCallback(this.#ownDone)
    for (const dep of deps) {
      dep.addDoneCallback(onDepDone)
      if (!this.#waiting.has(future)) return // it failed, or resumed, at once
    }
  }

  /** Cancels every waiting task's future. */
  cancelAll(): void {
    for (const future of [...this.#waiting.keys()]) future.cancel()
  }

  /** Resolves once no task is waiting (at once if none is). */
  idle(): Promise<void> {
    if (this.#waiting.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #depDone(future: Future<unknown>, dep: Future<unknown>): void {
    const w = this.#waiting.get(future)
    if (w === undefined) return
    const outcome = classifyDone(dep)
    if (outcome?.kind === 'failed') {
      this.#leave(future, w)
      const error = outcome.error
      this.#later(() => {
        if (!future.done()) future.setException(error)
      })
      return
    }
    if (--w.remaining > 0) return
    this.#leave(future, w)
    this.#run(future, w.resume)
  }

  /** Runs `resume` (in turn, see `#todo`); one that throws fails `future` with its error. */
  #run(future: Future<unknown>, resume: () => void): void {
    this.#later(() => {
      try {
        resume()
      } catch (error) {
        if (!future.done()) future.setException(error as Error)
      }
    })
  }

  #later(action: () => void): void {
    this.#todo.push(action)
    if (this.#draining) return
    this.#draining = true
    for (let i = 0; i < this.#todo.length; i++) {
      try {
        this.#todo[i]!()
      } catch (error) {
        logError('a dependent task could not be settled', error)
      }
    }
    this.#todo.length = 0
    this.#draining = false
  }

  /** The task's own future ended while it waited: it was cancelled. */
  readonly #ownDone = (future: Future<unknown>): void => {
    const w = this.#waiting.get(future)
    if (w !== undefined) this.#leave(future, w)
  }

  #leave(future: Future<unknown>, w: Waiting): void {
    this.#waiting.delete(future)
    // On a done future there is nothing to remove (and done() would fetch a held value).
    removeDoneCallback(future, this.#ownDone)
    for (const dep of w.deps) removeDoneCallback(dep, w.onDepDone)
    if (this.#waiting.size > 0) return
    const idle = this.#idle
    this.#idle = []
    for (const resolve of idle) resolve()
  }
}
