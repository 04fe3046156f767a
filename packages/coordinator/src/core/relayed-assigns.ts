import type { AssignDep } from '@clusterpool/protocol'

import type { ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'
import { sendAssign } from './task-wire.js'

/** An input of a task that lives on another worker: its index in the task's `deps`, and where. */
export interface RelayedInput {
  readonly index: number
  readonly from: string
}

/** A task whose `assign` waits for inputs relayed from other workers. */
interface WaitingAssign {
  readonly workerId: string
  left: number
}

/**
 * The assigns that wait for relayed inputs. A task assigned to one worker whose big inputs sit
 * on others is sent only when the relay has brought every one of them (`DataRelay`); the
 * receiving worker keeps them as replicas. Until then the task is `processing` on its worker in
 * the scheduler's eyes but unknown to the worker, so a cancel or a steal of it is answered here,
 * and an input that cannot come sends the task back to the scheduler (`taskDropped`), which
 * waits for it to be computed again or fails the task.
 */
export class RelayedAssigns {
  readonly #s: CoreState
  /** By task key. */
  readonly #waiting = new Map<string, WaitingAssign>()

  constructor(s: CoreState) {
    this.#s = s
  }

  /** Whether the task's assign waits for relayed inputs. */
  has(key: string, workerId: string): boolean {
    return this.#waiting.get(key)?.workerId === workerId
  }

  /** Fetches `relayed` (indices into `deps`) and then sends `task` to worker `workerId`. */
  start(
    task: ClientTask,
    workerId: string,
    attempt: number,
    deps: AssignDep[],
    relayed: readonly RelayedInput[],
  ): void {
    const s = this.#s
    const key = task.key
    const waiting: WaitingAssign = { workerId, left: relayed.length }
    this.#waiting.set(key, waiting)
    for (const { index, from } of relayed) {
      const dep = deps[index]!
      s.relay.fetch(dep.key, from, {
        value: (value) => {
          if (this.#waiting.get(key) !== waiting) return
          deps[index] = { ...dep, value, keep: true }
          if (--waiting.left > 0) return
          this.#waiting.delete(key)
          const target = s.workers.get(workerId)
          if (!target) return
          const now = performance.now()
          for (const { index: i } of relayed) s.scheduler.addReplica(deps[i]!.key, workerId, now)
          sendAssign(task, target, attempt, deps)
        },
        missing: () => {
          if (!this.take(key, workerId)) return
          s.scheduler.taskDropped(key, workerId, performance.now())
        },
      })
    }
  }

  /** Forgets the task's waiting assign to `workerId`; false if there was none. */
  take(key: string, workerId: string): boolean {
    const waiting = this.#waiting.get(key)
    if (waiting?.workerId !== workerId) return false
    this.#waiting.delete(key)
    return true
  }

  /** The worker left: what waited to go to it is void (the scheduler requeues its tasks). */
  workerGone(workerId: string): void {
    for (const [key, waiting] of this.#waiting)
      if (waiting.workerId === workerId) this.#waiting.delete(key)
  }
}
