import type {
  AssignDep,
  AssignTask,
  FnRef,
  SerializedError,
  SourceFnRef,
  TaskOptions,
  WireFnRef,
} from '@clusterpool/protocol'

import type { TaskSpec } from '../scheduler/specs.js'
import type { ClientSession } from './sessions.js'

/**
 * What the coordinator keeps of a task besides the scheduler's record: the code, the encoded
 * arguments, and the outcome until the client has it and no dependent needs it.
 */
export class TaskEntry {
  readonly key: string
  readonly client: ClientSession
  /** The client's id for it. */
  readonly id: number
  readonly fn: FnRef
  readonly args: Uint8Array
  /** Each dependency: the DepRef id in `args` and the task key it stands for. */
  readonly deps: readonly { readonly id: number; readonly key: string }[] | undefined
  readonly opts: Readonly<TaskOptions> | undefined
  readonly chunk: boolean
  /** The result, held while the client or a dependent may still need it. */
  value: Uint8Array | undefined
  /** A result a worker just reported, until the scheduler accepts it (`memory`). */
  arriving: Uint8Array | undefined
  /** The last error a worker reported (sent to the client if no retry follows). */
  error: SerializedError | undefined
  /** The result stays in a worker's memory (it was too large to travel with its report). */
  held = false
  /** The client asked for the value (`gather`) and waits for it. */
  gathering = false
  /** Data the client scattered, not a task. */
  scattered = false
  /** The client cancelled it while it ran: the worker was told to abort it. */
  aborting = false
  /** The client was told it is running. */
  announced = false
  /** The client already has its outcome (or no longer wants it). */
  settled = false
  /** Its outcome is counted in the per-function progress. */
  counted = false
  /** Its function's row of the per-function progress, once looked up. */
  progress: { pending: number; running: number; done: number; erred: number } | undefined

  constructor(
    key: string,
    client: ClientSession,
    id: number,
    fn: FnRef,
    args: Uint8Array,
    deps: TaskEntry['deps'],
    opts: TaskEntry['opts'],
    chunk: boolean,
  ) {
    this.key = key
    this.client = client
    this.id = id
    this.fn = fn
    this.args = args
    this.deps = deps
    this.opts = opts
    this.chunk = chunk
  }
}

// ─── messages and specs built per task (the hot path: no spreads, no temporary objects) ─────

/** The scheduler's view of a submitted task; options and dependencies only when given. */
export function taskSpec(
  key: string,
  fnKey: string,
  clientId: string,
  opts: Readonly<TaskOptions> | undefined,
  deps: TaskEntry['deps'],
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
  entry: TaskEntry,
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
