import {
  DataLostError,
  DependencyError,
  KilledWorkerError,
  NoWorkerError,
  ProtocolError,
  dependencyReason,
  deserializeError,
  serializeError,
  type AssignDep,
  type SerializedError,
} from '@clusterpool/protocol'

import type { Decision, DepLocation, FailedDecision } from '../scheduler/decisions.js'
import { ClientTaskState, type ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'
import type { RelayedAssigns, RelayedInput } from './relayed-assigns.js'
import { sendAssign } from './task-wire.js'
import { refusedAsTooLarge, sendValue } from './values.js'

/** Who hears that a task ended: its client (it waits), its client regathering the value, nobody. */
const Audience = { CLIENT: 0, REGATHER: 1, NOBODY: 2 } as const
type Audience = (typeof Audience)[keyof typeof Audience]

/**
 * Turns the scheduler's decisions into messages: `assign`, `store`, `cancel`, `steal` and
 * `release` to workers, `running`, `results` and `errors` to clients, and the client tasks'
 * transitions and counts that go with them. An `assign` whose inputs live on other workers waits
 * for the relay (`RelayedAssigns`); decisions about such a task are answered here, as the worker
 * would have answered them.
 */
export class Dispatcher {
  readonly #s: CoreState
  readonly #assigns: RelayedAssigns

  constructor(s: CoreState, assigns: RelayedAssigns) {
    this.#s = s
    this.#assigns = assigns
  }

  decide(d: Decision): void {
    const s = this.#s
    switch (d.type) {
      case 'assign':
        this.#assign(d.key, d.workerId, d.attempt, d.deps)
        return
      case 'store': {
        const task = s.tasks.get(d.key)
        if (task?.valueState !== 'inline') return
        const value = task.store()
        s.workers.get(d.workerId)?.link.pushItem('store', 'items', { key: d.key, value })
        return
      }
      case 'cancel-on-worker':
        // Not sent yet (waiting for relayed inputs): the worker has nothing to drop.
        if (this.#assigns.take(d.key, d.workerId))
          s.scheduler.taskDropped(d.key, d.workerId, performance.now())
        else s.workers.get(d.workerId)?.link.pushItem('cancel', 'keys', d.key)
        return
      case 'steal-request':
        if (this.#assigns.take(d.key, d.victimId))
          s.scheduler.stealReply(d.key, d.victimId, true, performance.now())
        else s.workers.get(d.victimId)?.link.pushItem('steal', 'keys', d.key)
        return
      case 'release-data':
        for (const id of d.workerIds) s.workers.get(id)?.link.pushItem('release', 'keys', d.key)
        return
      case 'forgotten': {
        s.nested.settled(d.key)
        const task = s.tasks.get(d.key)
        if (task) {
          s.stats.ended(task, undefined)
          s.tasks.delete(d.key)
          task.client.keys.delete(d.key)
          if (task.fn.kind === 'source') s.sources.release(task.fn.hash)
          task.client.heldBytes -= task.heldBytes
        }
        return
      }
      case 'memory':
        this.#memory(d.key, d.nbytes)
        return
      case 'erred': {
        const task = s.tasks.get(d.key)
        s.stats.erred()
        if (task && this.#end(task, 'erred') !== Audience.NOBODY)
          this.#sendError(
            task,
            task.error ?? serializeError(new ProtocolError('the task failed without an error')),
          )
        return
      }
      case 'failed': {
        const task = s.tasks.get(d.key)
        s.stats.failed(d.reason)
        if (!task) return
        // Kept: a client told the result is `held` may still ask for it (`gather`).
        task.error = serializeError(this.#failure(d))
        if (this.#end(task, 'erred') !== Audience.NOBODY) this.#sendError(task, task.error)
        return
      }
      case 'retry':
        s.log.debug({ key: d.key, attempt: d.attempt }, 'retrying a failed task')
        return
      case 'recomputing':
        s.log.info({ key: d.key, lostOn: d.lostOn }, 'recomputing a result lost with its worker')
        return
    }
  }

  #memory(key: string, nbytes: number): void {
    const s = this.#s
    const task = s.tasks.get(key)
    if (!task?.scattered) s.stats.finished() // throughput and metrics: once per batch
    if (!task) return
    if (task.valueState === 'arriving') task.accept()
    switch (this.#end(task, 'done')) {
      case Audience.CLIENT: {
        const value = task.value
        if (value !== undefined && refusedAsTooLarge(s, task, value.byteLength)) return
        task.client.link.pushItem(
          'results',
          'items',
          value !== undefined
            ? { id: task.id, value }
            : task.valueState === 'held'
              ? { id: task.id, held: nbytes }
              : { id: task.id },
        )
        return
      }
      case Audience.REGATHER:
        sendValue(s, task)
        return
      case Audience.NOBODY:
        return
    }
  }

  /** The task ended with `outcome`: settles it, and says who is to hear of it. */
  #end(task: ClientTask, outcome: 'done' | 'erred'): Audience {
    // Settled already: a result computed again, or one error after another.
    if (task.state === ClientTaskState.SETTLED) return Audience.NOBODY
    const audience =
      task.state === ClientTaskState.REGATHERING
        ? Audience.REGATHER
        : task.awaited
          ? Audience.CLIENT
          : Audience.NOBODY
    this.#s.stats.ended(task, outcome)
    this.#s.nested.settled(task.key)
    task.to('settle')
    return audience
  }

  #sendError(task: ClientTask, error: SerializedError): void {
    task.client.link.pushItem('errors', 'items', { id: task.id, error })
  }

  #failure(d: FailedDecision): Error {
    const s = this.#s
    switch (d.reason) {
      case 'killed-worker':
        return new KilledWorkerError(s.label(d.key), d.workers ?? [])
      case 'dependency': {
        const dep = d.dependency === undefined ? 'a dependency' : s.label(d.dependency)
        const reason = d.message.replace(/^.*?dependency \S+ /, '')
        // The dependency's own error, while the coordinator still has it: said and chained.
        const cause = d.dependency === undefined ? undefined : s.tasks.get(d.dependency)?.error
        if (cause === undefined) return new DependencyError(dep, reason)
        return new DependencyError(dep, `${reason}: ${dependencyReason(cause)}`, {
          cause: deserializeError(cause),
        })
      }
      case 'no-worker':
        return new NoWorkerError(d.message)
      case 'data-lost':
        return new DataLostError(d.message)
    }
  }

  #assign(key: string, workerId: string, attempt: number, where: readonly DepLocation[]): void {
    const s = this.#s
    const task = s.tasks.get(key)
    const worker = s.workers.get(workerId)
    if (!task || !worker) return
    if (task.state === ClientTaskState.PENDING) {
      s.stats.announced(task)
      task.to('announce')
      task.client.link.pushItem('running', 'ids', task.id)
    }
    if (!task.deps) return sendAssign(task, worker, attempt, undefined)
    // Inputs: small ones from here; big ones are on the worker already, or relayed to it.
    const deps: AssignDep[] = []
    let relayed: RelayedInput[] | undefined
    // `where` lists the inputs in the task's order; a map only if it does not line up.
    let byKey: Map<string, string | undefined> | undefined
    for (const [i, d] of task.deps.entries()) {
      const value = s.tasks.get(d.key)?.value
      const at = where[i]
      let from: string | undefined
      if (at?.key === d.key) from = at.workerId
      else {
        byKey ??= new Map(where.map((l) => [l.key, l.workerId]))
        from = byKey.get(d.key)
      }
      if (value === undefined && from !== undefined && from !== workerId)
        (relayed ??= []).push({ index: deps.length, from })
      deps.push(value === undefined ? { id: d.id, key: d.key } : { id: d.id, key: d.key, value })
    }
    if (relayed === undefined) return sendAssign(task, worker, attempt, deps)
    this.#assigns.start(task, workerId, attempt, deps, relayed)
  }
}
