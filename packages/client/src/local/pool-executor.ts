import {
  DependencyError,
  InvalidOptionError,
  WaitForGraph,
  createDecoder,
  createEncoder,
  deserializeError,
  encodeValue,
  fnLabel,
  shouldRetry,
  substituteDeps,
  type FnRef,
  type SerializedError,
  type TaskOptions,
} from '@clusterpool/protocol'
import { TaskPool, type TaskPoolOptions } from '@clusterpool/pool'

import { Future } from '../future/future.js'
import { peek, setAbortHandler } from '../future/internal.js'
import { BaseExecutor, type ScheduledCall } from '../executor/base-executor.js'
import { TASK_SETUP_MODULE } from '../nested/setup-url.js'
import { TaskSession, type ChildCall, type HostedTask, type SessionHost } from './task-session.js'

/** Options every local executor shares, on top of the pool's. */
export interface NestedTaskOptions {
  /**
   * Most tasks one task submitted from outside may have below it, all generations together
   * (tasks submitted through `currentTask().executor`). A submit past it fails with
   * `DescendantLimitError`: a recursion that never ends stops there. Default 100000.
   */
  maxDescendants?: number
  /**
   * Tasks that may wait at once in one process or thread for futures of their executors. A
   * waiting task frees its slot; a process full of waiting tasks takes no more, and when all are
   * full one more is started, so nested tasks never deadlock on slots. Default 64.
   */
  maxWaitingPerChild?: number
}

export const NESTED_DEFAULTS = Object.freeze({ maxDescendants: 100_000 })

/**
 * A task of this executor. Its graph key and label are made only if it ever enters the wait-for
 * graph (most tasks never do): a string per task is a cost on the hot path.
 */
class Entry implements HostedTask {
  attempt = 1
  descendants = 0
  liveDependents = 0
  /** Its run's session, made on the first frame from its executor. */
  session: TaskSession | undefined = undefined
  /** A child's encoded arguments (its `call.args` is empty): what a retry runs again. */
  encodedArgs: Uint8Array | undefined = undefined
  readonly root: HostedTask
  readonly #id: number

  constructor(
    readonly future: Future<unknown>,
    readonly call: ScheduledCall,
    /** The pool's id of the current attempt. */
    public poolId: number,
    /** For a child of a running task: the session it reports to, and its id there. */
    readonly parentSession: TaskSession | undefined,
    readonly childId: number,
  ) {
    this.#id = poolId
    this.root = parentSession?.parent.root ?? this
  }

  get key(): string {
    return `t${this.#id}`
  }

  get label(): string {
    return fnLabel(this.call.ref)
  }
}

/**
 * An executor over a local `TaskPool` (processes or threads). It encodes arguments once, hands
 * tasks to the pool, and settles futures from the pool's events. Retries (`retries: n`) rerun a
 * task whose function threw.
 *
 * Tasks may submit tasks (`currentTask().executor`): each running task that does gets a
 * `TaskSession`, which plays the coordinator for it. Children go ahead of outside work; a task
 * waiting for its children frees its slot; waits are checked against one wait-for graph.
 */
export class PoolExecutor extends BaseExecutor implements SessionHost {
  readonly #pool: TaskPool
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #entries = new Map<number, Entry>()
  readonly graph = new WaitForGraph()
  readonly maxDescendants: number
  #nextId = 0

  protected constructor(options: TaskPoolOptions & NestedTaskOptions) {
    super()
    const { maxDescendants = NESTED_DEFAULTS.maxDescendants, ...poolOptions } = options
    if (!Number.isSafeInteger(maxDescendants) || maxDescendants < 0) {
      throw new InvalidOptionError(
        `maxDescendants must be a non-negative integer, got ${String(maxDescendants)}`,
      )
    }
    this.maxDescendants = maxDescendants
    this.#pool = new TaskPool(
      { ...poolOptions, setupModules: [TASK_SETUP_MODULE, ...(poolOptions.setupModules ?? [])] },
      {
        onStart: (id) => this.#onStart(id),
        onResult: (id, value) => this.#onResult(id, value),
        onError: (id, error) => this.#onError(id, error),
        onNested: (id, payload) => this.#onNested(id, payload),
      },
    )
  }

  /** Pool counters: queued, in flight, waiting, workers, completed, failed. */
  get stats(): TaskPool['stats'] {
    return this.#pool.stats
  }

  get unsupported(): readonly (keyof TaskOptions)[] {
    return this.unsupportedOptions()
  }

  protected override unsupportedOptions(): readonly (keyof TaskOptions)[] {
    return CLUSTER_ONLY_OPTIONS
  }

  protected schedule(call: ScheduledCall): Future<unknown> {
    const id = ++this.#nextId
    const future = call.future ?? new Future<unknown>(`${fnLabel(call.ref)}-${id}`)
    let args: Uint8Array
    try {
      args = encodeValue(this.#encoder, call.args, 'argument')
    } catch (error) {
      future.setException(error as Error)
      return future
    }
    const entry = this.#entry(id, future, call, undefined, 0)
    this.#start(entry, args, false)
    return future
  }

  protected override newFuture(ref: FnRef): Future<unknown> {
    return new Future<unknown>(`${fnLabel(ref)}-${++this.#nextId}`)
  }

  #entry(
    id: number,
    future: Future<unknown>,
    call: ScheduledCall,
    parentSession: TaskSession | undefined,
    childId: number,
  ): Entry {
    return new Entry(future, call, id, parentSession, childId)
  }

  #start(entry: Entry, args: Uint8Array, urgent: boolean): void {
    const id = entry.poolId
    this.#entries.set(id, entry)
    if (urgent) entry.encodedArgs = args
    entry.future.addDoneCallback((f) => {
      if (f.cancelled() && this.#entries.get(entry.poolId) === entry) {
        this.#entries.delete(entry.poolId)
        this.#pool.cancel(entry.poolId)
      }
    })
    setAbortHandler(entry.future, () => this.#pool.abort(entry.poolId))
    this.#dispatch(entry, args, urgent)
  }

  #dispatch(entry: Entry, args: Uint8Array, urgent: boolean): void {
    const { options } = entry.call
    this.#pool.submit({
      id: entry.poolId,
      fn: entry.call.ref,
      args,
      attempt: entry.attempt,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(entry.call.chunk ? { chunk: true } : {}),
      ...(urgent ? { urgent: true } : {}),
    })
  }

  // ── SessionHost: children of running tasks ───────────────────────────────────────────────

  send(poolId: number, frame: Uint8Array): void {
    this.#pool.sendNested(poolId, frame)
  }

  scheduleChild(session: TaskSession, child: ChildCall): HostedTask {
    const id = ++this.#nextId
    const call: ScheduledCall = {
      ref: child.ref,
      options: child.options,
      args: [],
      ...(child.chunk ? { chunk: true } : {}),
    }
    const future = new Future<unknown>(`${fnLabel(child.ref)}-${id}`)
    const entry = this.#entry(id, future, call, session, child.id)
    // In the graph from its submit (`TaskSession`), whether or not it ever starts.
    future.addDoneCallback(() => this.graph.remove(entry.key))
    const args = child.args
    if (args instanceof Uint8Array) {
      this.#start(entry, args, true)
      return entry
    }
    // Dependencies first: once all have values, put them in the arguments and run.
    Promise.all(args.deps.map((d) => d.task.future.result())).then(
      (values) => {
        if (future.done()) return
        const byId = new Map(args.deps.map((d, i) => [d.id, values[i]]))
        const lookup = (depId: number): unknown => byId.get(depId)
        let encoded: Uint8Array
        try {
          const decoded = this.#decoder.decode(args.raw)
          encoded = encodeValue(this.#encoder, substituteDeps(decoded, lookup), 'argument')
        } catch (error) {
          future.setException(error as Error)
          session.failed(child.id, error as Error)
          return
        }
        this.#start(entry, encoded, true)
      },
      (error: unknown) => {
        if (future.done()) return
        const dep = args.deps.find((d) => peek(d.task.future).state !== 'fulfilled')
        const failure = new DependencyError(
          dep?.task.future.key ?? 'a dependency',
          `failed: ${(error as Error).message}`,
          { cause: error },
        )
        future.setException(failure)
        session.failed(child.id, failure)
      },
    )
    return entry
  }

  abort(task: HostedTask): void {
    const entry = task as Entry
    if (this.#entries.get(entry.poolId) === entry) this.#pool.abort(entry.poolId)
  }

  settled(value: unknown): HostedTask {
    const future = new Future<unknown>(`scatter-${++this.#nextId}`)
    future.setResult(value)
    const entry = this.#entry(
      this.#nextId,
      future,
      { ref: SCATTERED, options: {}, args: [] },
      undefined,
      0,
    )
    return entry
  }

  // ── pool events ──────────────────────────────────────────────────────────────────────────

  #onNested(poolId: number, payload: Uint8Array): void {
    const entry = this.#entries.get(poolId)
    if (entry === undefined) return
    entry.session ??= new TaskSession(this, entry, poolId)
    entry.session.receive(payload)
  }

  #onStart(id: number): void {
    const entry = this.#entries.get(id)
    if (!entry || entry.attempt !== 1) return
    if (!entry.future.setRunningOrNotifyCancel()) this.#pool.abort(id)
    else entry.parentSession?.started(entry.childId)
  }

  #onResult(id: number, value: Uint8Array): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#entries.delete(id)
    this.#endRun(entry)
    let decoded: unknown
    try {
      decoded = this.#decoder.decode(asBuffer(value))
    } catch (error) {
      entry.parentSession?.failed(entry.childId, error as Error)
      entry.future.setException(error as Error)
      return
    }
    entry.parentSession?.result(entry.childId, value)
    entry.future.setResult(decoded)
  }

  #onError(id: number, error: SerializedError): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#endRun(entry)
    if (shouldRetry(entry.call.options.retries, entry.attempt, { code: error.code })) {
      this.#entries.delete(id)
      entry.poolId = ++this.#nextId
      entry.attempt++
      this.#entries.set(entry.poolId, entry)
      setAbortHandler(entry.future, () => this.#pool.abort(entry.poolId))
      const args = entry.encodedArgs ?? encodeValue(this.#encoder, entry.call.args, 'argument')
      this.#dispatch(entry, args, entry.encodedArgs !== undefined)
      return
    }
    this.#entries.delete(id)
    const failure = deserializeError(error)
    entry.parentSession?.failed(entry.childId, failure)
    entry.future.setException(failure)
  }

  /** A run of `entry` ended: its children that nobody else needs go with it. */
  #endRun(entry: Entry): void {
    const session = entry.session
    if (session === undefined) return
    entry.session = undefined
    session.close()
  }

  protected cancelAll(): void {
    for (const entry of [...this.#entries.values()]) entry.future.cancel()
  }

  protected async close(wait: boolean): Promise<void> {
    const closing = this.#pool.close()
    if (wait) await closing
    else closing.catch(() => {})
  }
}

/** Task options only a cluster can honour: they need workers to choose from. */
const CLUSTER_ONLY_OPTIONS: readonly (keyof TaskOptions)[] = Object.freeze([
  'resources',
  'workers',
  'allowOtherWorkers',
  'priority',
])

/** What a scattered value's record names as its function (nothing runs). */
const SCATTERED = Object.freeze({
  kind: 'module',
  url: 'clusterpool:scatter',
  exportName: 'scatter',
} as const)

/**
 * A view of `bytes` as a Buffer: msgpackr decodes binary values as Buffers only from a Buffer,
 * and results from threads arrive as plain Uint8Arrays.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
