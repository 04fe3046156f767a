import { InvalidOptionError, InvalidStateError } from '@clusterpool/protocol'

import type { SchedulerState } from './core.js'
import { groupSignature, QueueGroup } from './group.js'
import { TaskRecord } from './task.js'
import type { ResourceNeed } from './worker.js'

/** A worker daemon joining. */
export interface WorkerSpec {
  readonly id: string
  /** For `workers` restrictions and KilledWorker messages. Default: the id. */
  readonly name?: string
  /** For `workers` restrictions. Default ''. */
  readonly host?: string
  /** Process slots. A positive integer. */
  readonly procs: number
  /** Abstract resources it offers, such as `{ GPU: 2 }`. Default: none. */
  readonly resources?: Readonly<Record<string, number>>
}

/** A task submitted by a client. Only `key`, `fnKey` and `clientId` are required. */
export interface TaskSpec {
  readonly key: string
  /** The function's key: duration estimates are per function. */
  readonly fnKey: string
  readonly clientId: string
  /** Higher runs first; FIFO within a priority. Default 0. */
  readonly priority?: number
  /** Resources held while assigned, such as `{ GPU: 1 }`. Default: none. */
  readonly resources?: Readonly<Record<string, number>>
  /** Names, hosts or ids of the workers it may run on. Default: any. */
  readonly workers?: readonly string[]
  /** With `workers`: run anywhere when none of those is connected. Default false. */
  readonly allowOtherWorkers?: boolean
  /** Runs again this many times if the function throws. Default 0. */
  readonly retries?: number
  /** Keys of tasks whose results it takes as inputs. Default: none. */
  readonly deps?: readonly string[]
  /** Expected size of the result in bytes, until it is known. Default 0. */
  readonly nbytesHint?: number
}

/** Data a client puts on the cluster (`scatter`). */
export interface ScatterSpec {
  readonly key: string
  readonly clientId: string
  /** Size of the encoded value. Bytes. */
  readonly nbytes: number
  /** Names, hosts or ids of the workers it may go to. Default: any. */
  readonly workers?: readonly string[]
}

/** What a worker reports with a result. */
export interface FinishReport {
  /** Compute time of the run. Milliseconds. */
  readonly durationMs: number
  /** Size of the result held on the worker. Bytes; default 0. */
  readonly nbytes?: number
}

/** What a worker reports with an error. */
export interface ErrorReport {
  readonly durationMs: number
  /** The run was aborted on purpose (its client cancelled it): no retry. Default false. */
  readonly final?: boolean
}

/**
 * Turns a submitted spec into a task record (state waiting) wired to its dependencies.
 * `unknown` names the first dependency that is not (or no longer) known; the caller fails the
 * task with it.
 */
export function createTask(
  c: SchedulerState,
  spec: TaskSpec,
): { task: TaskRecord; unknown: string | null } {
  if (typeof spec.key !== 'string') throw new InvalidOptionError('task key must be a string')
  if (c.tasks.has(spec.key)) {
    throw new InvalidStateError(`scheduler: task ${spec.key} was already submitted`)
  }
  const priority = spec.priority ?? 0
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new InvalidOptionError(
      `task ${spec.key}: priority must be a finite number, got ${String(priority)}`,
    )
  }
  const retries = spec.retries ?? 0
  if (!Number.isInteger(retries) || retries < 0) {
    throw new InvalidOptionError(
      `task ${spec.key}: retries must be an integer >= 0, got ${String(retries)}`,
    )
  }
  const need = resourceNeed(spec.key, spec.resources)
  const restrict = spec.workers !== undefined && spec.workers.length > 0 ? spec.workers : null
  const allowOther = spec.allowOtherWorkers === true && restrict !== null
  const sig = groupSignature(need, restrict, allowOther)
  let g = c.groups.get(sig)
  if (g === undefined) {
    g = new QueueGroup(sig, need, restrict === null ? null : new Set(restrict), allowOther)
    c.groups.set(sig, g)
  }
  g.refs++
  const nbytes = spec.nbytesHint !== undefined && spec.nbytesHint > 0 ? spec.nbytesHint : 0
  const t = new TaskRecord(
    spec.key,
    c.estimates.of(spec.fnKey),
    spec.clientId,
    priority,
    ++c.seq,
    g,
    retries,
    nbytes,
  )
  c.tasks.set(t.key, t)
  c.counts.waiting++
  let unknown: string | null = null
  if (spec.deps !== undefined && spec.deps.length > 0) {
    const deps: TaskRecord[] = []
    for (const k of new Set(spec.deps)) {
      const d = c.tasks.get(k)
      if (d === undefined || d === t) unknown ??= k
      else deps.push(d)
    }
    if (deps.length > 0) {
      t.deps = deps
      for (const d of deps) {
        ;(d.dependents ??= []).push(t)
        d.liveDependents++
        d.pendingDependents++ // the new task is active (waiting)
      }
    }
  }
  return { task: t, unknown }
}

function resourceNeed(
  key: string,
  resources: Readonly<Record<string, number>> | undefined,
): ResourceNeed | null {
  if (resources === undefined) return null
  const need: [string, number][] = []
  for (const [name, amount] of Object.entries(resources)) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidOptionError(
        `task ${key}: resources.${name} must be a number >= 0, got ${String(amount)}`,
      )
    }
    if (amount > 0) need.push([name, amount])
  }
  need.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return need.length > 0 ? need : null
}
