import type {
  AssignDep,
  AssignTask,
  FnRef,
  SourceFnRef,
  TaskOptions,
  WireFnRef,
} from '@clusterpool/protocol'

import type { TaskSpec } from '../scheduler/specs.js'
import type { ClientTask, TaskDeps } from './client-task.js'
import type { WorkerSession } from './sessions.js'

/*
 * The scheduler's specs and the workers' messages built per task. This is the hot path: no
 * spreads, no temporary objects.
 */

/** The scheduler's view of a submitted task; options and dependencies only when given. */
export function taskSpec(
  key: string,
  fnKey: string,
  clientId: string,
  opts: Readonly<TaskOptions> | undefined,
  deps: TaskDeps | undefined,
): TaskSpec {
  if (opts === undefined && deps === undefined) return { key, fnKey, clientId }
  const spec: { -readonly [K in keyof TaskSpec]: TaskSpec[K] } = { key, fnKey, clientId }
  if (opts?.priority !== undefined) spec.priority = opts.priority
  if (opts?.resources !== undefined) spec.resources = opts.resources
  if (opts?.workers !== undefined) spec.workers = opts.workers
  if (opts?.allowOtherWorkers !== undefined) spec.allowOtherWorkers = opts.allowOtherWorkers
  if (opts?.retries !== undefined) spec.retries = opts.retries
  if (deps) spec.deps = deps.map((d) => d.key)
  return spec
}

/** A task as a worker receives it: `fn` as `wireFn` gives it, dependencies when it has some. */
export function assignTask(
  entry: ClientTask,
  fn: WireFnRef,
  attempt: number,
  deps: readonly AssignDep[] | undefined,
): AssignTask {
  if (deps === undefined && entry.opts === undefined && !entry.chunk)
    return { key: entry.key, fn, args: entry.args, attempt }
  const task: { -readonly [K in keyof AssignTask]: AssignTask[K] } = {
    key: entry.key,
    fn,
    args: entry.args,
    attempt,
  }
  if (deps) task.deps = deps
  if (entry.opts) task.opts = entry.opts
  if (entry.chunk) task.chunk = true
  return task
}

const withoutSource = new WeakMap<SourceFnRef, WireFnRef>()

/**
 * `fn` as a peer that has its source (`sent`) needs it: for a source function, the reference
 * without the source, one object per function rather than one per task.
 */
export function wireFn(fn: FnRef, sent: boolean): WireFnRef {
  if (fn.kind !== 'source' || !sent) return fn
  let light = withoutSource.get(fn)
  if (light === undefined) {
    light = { kind: 'source', hash: fn.hash, name: fn.name }
    withoutSource.set(fn, light)
  }
  return light
}

/**
 * Sends `task` to `worker` (`assign`), with its function's source unless that worker has it.
 * A task its client is aborting (cancelled while it moved, by a steal) is aborted there too.
 */
export function sendAssign(
  task: ClientTask,
  worker: WorkerSession,
  attempt: number,
  deps: readonly AssignDep[] | undefined,
): void {
  const fn = task.fn
  let sent = false
  if (fn.kind === 'source') {
    sent = worker.sentSources.has(fn.hash)
    if (!sent) worker.sentSources.add(fn.hash)
  }
  worker.link.pushItem('assign', 'tasks', assignTask(task, wireFn(fn, sent), attempt, deps))
  if (task.aborting) worker.link.pushItem('cancel', 'keys', task.key)
}
