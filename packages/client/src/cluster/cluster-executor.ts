import {
  BrokenExecutorError,
  ConnectionLostError,
  MAX_TIMER_MS,
  PROTOCOL_VERSION,
  ProtocolError,
  checkMs,
  createDecoder,
  createEncoder,
  deserializeError,
  encodeValue,
  fnLabel,
  frameTooLarge,
  type ClientHello,
  type ClientToCoordinator,
  type ClientWelcome,
  type CoordinatorToClient,
  type SubmitTask,
  type WireFnRef,
} from '@clusterpool/protocol'
import {
  openSession,
  type ConnectionHandlers,
  type DialOptions,
  type MessageSink,
} from '@clusterpool/transport'

import { Future } from '../future/future.js'
import { removeDoneCallback, setAbortHandler, setDemandHandler } from '../future/internal.js'
import { BaseExecutor, type ScheduledCall } from '../executor/base-executor.js'
import type { Task } from '../task/task.js'
import { classifyDone, replaceFutures } from './dependencies.js'

export interface ClusterExecutorOptions extends DialOptions {
  /** A name for this client on the dashboard and in logs. Default `client-<pid>`. */
  name?: string
  /** Ping the coordinator this often; three intervals without a pong drop the connection. Milliseconds; default 5000. */
  keepAliveIntervalMs?: number
}

export interface ScatterOptions {
  /** Names, hosts or ids of the workers the value may go to. Default: any (the least loaded). */
  workers?: readonly string[]
}

/** How a cluster executor reaches its coordinator: a WebSocket connection, or an in-process link. */
export interface CoordinatorLink extends MessageSink<ClientToCoordinator> {
  setHandlers(handlers: ConnectionHandlers<CoordinatorToClient>): void
}

/**
 * The Executor API against a remote coordinator: tasks run on the cluster's worker daemons.
 *
 * ```ts
 * await using ex = await ClusterExecutor.connect('ws://coordinator:8786', { token })
 * const f = ex.submit((a: number, b: number) => a + b, 1, 2)
 * const g = ex.submit((x: number) => x * 10, f) // runs after f, receives its value
 * ```
 *
 * Each client sees only its own futures. If the connection is lost, unfinished futures fail
 * with `ConnectionLostError` and the executor is broken (`BrokenExecutorError` on submit).
 *
 * Data stays where it is made. A result larger than the coordinator's `holdResultsOverBytes`
 * (64 KiB by default) stays in its worker's memory: the future is fetched only when something
 * awaits it (`await`, `result()`, `exception()`, `addDoneCallback`, `done()`, `asCompleted`,
 * `wait`), and a task that takes it as an argument preferably runs on that worker. `scatter`
 * puts your own data there the same way. The worker drops the value once no future refers to it:
 * when its future is garbage collected (or the executor shuts down) and no dependent needs it.
 *
 * ```ts
 * const table = ex.scatter(bigLookupTable) // sent once, kept on a worker
 * const parts = items.map((x) => ex.submit(lookup, table, x)) // run next to the table
 * const values = await ex.gather(parts)
 * ```
 */
export class ClusterExecutor extends BaseExecutor {
  readonly #connection: CoordinatorLink
  readonly #welcome: ClientWelcome
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #futures = new Map<number, Future<unknown>>()
  /**
   * Ids cancelled here before the coordinator said they run. The coordinator may have handed
   * the task to a worker already: it then aborts it and reports its outcome, and keeps the task
   * (and a held value) until this client releases it.
   */
  readonly #cancelling = new Set<number>()
  readonly #ids = new FutureIds()
  /** Functions whose source the coordinator has, by hash: the reference to send without it. */
  readonly #sentSources = new Map<string, WireFnRef>()
  /**
   * Finished tasks whose value stays on a worker and that nobody has awaited yet. Held weakly:
   * when such a future is collected, the coordinator is told to release the value.
   */
  readonly #remote = new Map<number, WeakRef<Future<unknown>>>()
  readonly #collected = new FinalizationRegistry<number>((id) => {
    if (this.#remote.delete(id) && !this.#connection.closed)
      this.#connection.pushItem('release', 'ids', id)
  })
  #nextId = 0
  #broken: Error | undefined
  #idle: (() => void) | undefined

  protected constructor(connection: CoordinatorLink, welcome: ClientWelcome) {
    super()
    this.#connection = connection
    this.#welcome = welcome
    connection.setHandlers({
      onMessages: (messages) => {
        for (const m of messages) this.#handle(m)
      },
      onClose: (code, reason) => this.#onClose(code, reason),
    })
  }

  /** Connects to the coordinator at `url` (`ws://host:8786` or `wss://…`). */
  static async connect(
    url: string,
    options: ClusterExecutorOptions = {},
  ): Promise<ClusterExecutor> {
    const keepAliveMs = checkMs(
      options.keepAliveIntervalMs ?? 5000,
      'options.keepAliveIntervalMs',
      {
        max: MAX_TIMER_MS / 3,
      },
    )
    const hello: ClientHello = {
      kind: 'hello',
      version: PROTOCOL_VERSION,
      role: 'client',
      name: options.name ?? `client-${process.pid}`,
    }
    const { connection, welcome } = await openSession<
      'coordinator->client',
      ClientToCoordinator,
      ClientWelcome
    >(url, 'coordinator->client', hello, options)
    // A coordinator that vanished without closing (a partition, a frozen host) is noticed by
    // pings: the connection is dropped and the unfinished futures fail with ConnectionLostError.
    connection.keepAlive(keepAliveMs, 3 * keepAliveMs)
    return new ClusterExecutor(connection, welcome)
  }

  /** An executor over an already welcomed link (the embedded coordinator uses this). */
  static overLink(link: CoordinatorLink, welcome: ClientWelcome): ClusterExecutor {
    return new ClusterExecutor(link, welcome)
  }

  /** The coordinator's id for this client. */
  get clientId(): string {
    return this.#welcome.clientId
  }

  /** Workers and process slots connected when this client joined. */
  get cluster(): { workers: number; procs: number } {
    return { workers: this.#welcome.coordinator.workers, procs: this.#welcome.coordinator.procs }
  }

  protected override assertRunning(): void {
    super.assertRunning()
    if (this.#broken)
      throw new BrokenExecutorError(`the cluster executor is broken: ${this.#broken.message}`, {
        cause: this.#broken,
      })
  }

  protected override submitTask(t: Task, args: unknown[]): Future<unknown> {
    // Arguments that are all primitives hold no futures: skip the walk (and what it allocates).
    if (!args.some(isObject)) return this.#submit({ ref: t.ref, options: t.options, args }, [])
    const replaced = replaceFutures(args, (f) => {
      const done = classifyDone(f)
      if (done) return done
      const id = this.#ids.get(f)
      return id === undefined ? { kind: 'foreign' } : { kind: 'dep', id }
    })
    if ('foreign' in replaced) return this.scheduleAfterDependencies(t, args)
    if ('failed' in replaced) {
      const future = new Future<unknown>()
      future.setException(replaced.failed)
      return future
    }
    return this.#submit({ ref: t.ref, options: t.options, args: replaced.args }, replaced.deps)
  }

  protected schedule(call: ScheduledCall): Future<unknown> {
    return this.#submit(call, [])
  }

  #submit(call: ScheduledCall, deps: number[]): Future<unknown> {
    const id = ++this.#nextId
    const future = new Future<unknown>(`${fnLabel(call.ref)}-${id}`)
    const args = this.#encode(future, call.args, 'argument', 'the encoded arguments')
    if (!args) return future
    this.#futures.set(id, future)
    this.#ids.set(future, id)
    future.addDoneCallback(this.#onPendingDone)
    setAbortHandler(future, () => this.#connection.pushItem('cancel', 'ids', id))
    const task: { -readonly [K in keyof SubmitTask]: SubmitTask[K] } = {
      id,
      fn: this.#wireFn(call),
      args,
    }
    if (deps.length > 0) task.deps = deps
    if (hasOwnKeys(call.options)) task.opts = call.options
    if (call.chunk) task.chunk = true
    this.#connection.pushItem('submit', 'tasks', task)
    this.onSubmitted(future, id)
    return future
  }

  /** A task was submitted under `id` (subclasses watch its future). */
  protected onSubmitted(future: Future<unknown>, id: number): void {
    void future
    void id
  }

  /** The link to the coordinator, for subclasses that send messages of their own. */
  protected get link(): CoordinatorLink {
    return this.#connection
  }

  /**
   * Makes `future` stand for the coordinator's `id` in task arguments (a dependency), without
   * this executor ever settling it: a task's own future (`self`).
   */
  protected adoptAsDependency(future: Future<unknown>, id: number): void {
    this.#ids.set(future, id)
  }

  /** Resolves once no future of this executor is unfinished. */
  protected whenIdle(): Promise<void> {
    if (this.#futures.size === 0 || this.#connection.closed) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const previous = this.#idle
      this.#idle = () => {
        previous?.()
        resolve()
      }
    })
  }

  /** Unfinished futures of this executor. */
  protected get unfinished(): Iterable<Future<unknown>> {
    return this.#futures.values()
  }

  /** A pending future was cancelled here: tell the coordinator. (Dropped once it runs.) */
  readonly #onPendingDone = (f: Future<unknown>): void => {
    const id = this.#ids.get(f)
    if (f.cancelled() && id !== undefined && this.#futures.delete(id)) {
      this.#cancelling.add(id)
      this.#connection.pushItem('cancel', 'ids', id)
      this.#checkIdle()
    }
  }

  /**
   * Puts `value` on a worker of the cluster, once, and returns its future: pass the future to
   * tasks instead of the value, and they run where it is (or it is copied to where they run).
   * Awaiting the future fetches the value back. Large values are what this is for; the value
   * must be sendable, as a task argument is.
   * @param options.workers Names, hosts or ids of the workers it may go to; default: the one
   *   holding the fewest values. None of them connected fails the future with NoWorkerError.
   */
  scatter<T>(value: T, options: ScatterOptions = {}): Future<T> {
    this.assertRunning()
    const id = ++this.#nextId
    const future = new Future<T>(`scatter-${id}`)
    const bytes = this.#encode(future, value, 'scattered value', 'the scattered value')
    if (!bytes) return future
    future.setRunningOrNotifyCancel()
    this.#futures.set(id, future as Future<unknown>)
    this.#ids.set(future as Future<unknown>, id)
    const workers = options.workers === undefined ? undefined : [...options.workers]
    this.#connection.pushItem('scatter', 'items', {
      id,
      value: bytes,
      ...(workers ? { workers } : {}),
    })
    return future
  }

  /** The values of many futures, in order; rejects with the first error, like `Promise.all`. */
  gather<T>(futures: Iterable<Future<T>>): Promise<T[]> {
    return Promise.all([...futures].map((f) => f.result()))
  }

  /** The task finished and its value stays on a worker: fetch it once someone wants it. */
  #held(id: number): void {
    const future = this.#futures.get(id)
    if (!future || future.done()) {
      if (this.#cancelling.delete(id)) this.#connection.pushItem('release', 'ids', id)
      return
    }
    this.#futures.delete(id)
    this.#remote.set(id, new WeakRef(future))
    this.#collected.register(future, id, future)
    setDemandHandler(future, () => {
      this.#remote.delete(id)
      this.#collected.unregister(future)
      if (this.#connection.closed) return
      this.#futures.set(id, future)
      this.#connection.pushItem('gather', 'ids', id)
    })
    this.#checkIdle()
  }

  /** Encodes a value to send, or fails `future` (unsendable, or over the coordinator's maxPayload). */
  #encode<T>(
    future: Future<T>,
    value: unknown,
    what: string,
    sized: string,
  ): Uint8Array | undefined {
    try {
      const bytes = encodeValue(this.#encoder, value, what)
      const tooLarge = frameTooLarge(bytes.byteLength + 1024, this.#welcome.maxPayload, sized)
      if (tooLarge) throw tooLarge
      return bytes
    } catch (error) {
      future.setException(error as Error)
      return undefined
    }
  }

  #wireFn(call: ScheduledCall): WireFnRef {
    const ref = call.ref
    if (ref.kind === 'module') return ref
    const sent = this.#sentSources.get(ref.hash)
    if (sent) return sent
    this.#sentSources.set(ref.hash, { kind: 'source', hash: ref.hash, name: ref.name })
    return ref
  }

  #handle(m: CoordinatorToClient): void {
    switch (m.kind) {
      case 'running':
        for (const id of m.ids) {
          const future = this.#futures.get(id)
          // Running futures cannot be cancelled: the watcher is of no more use.
          if (future?.setRunningOrNotifyCancel()) removeDoneCallback(future, this.#onPendingDone)
        }
        return
      case 'results':
        for (const item of m.items) {
          if (item.held !== undefined) {
            this.#held(item.id)
            continue
          }
          const future = this.#take(item.id)
          if (!future) continue
          if (item.value === undefined) {
            future.setException(
              new ProtocolError(
                `the coordinator reported task ${item.id} finished without its value or where it is held`,
              ),
            )
            continue
          }
          let value: unknown
          try {
            value = this.#decoder.decode(item.value)
          } catch (error) {
            future.setException(error as Error)
            continue
          }
          future.setResult(value)
        }
        this.#checkIdle()
        return
      case 'errors':
        for (const item of m.items) this.#take(item.id)?.setException(deserializeError(item.error))
        this.#checkIdle()
        return
      case 'cancelled':
        for (const id of m.ids) this.#cancelling.delete(id)
        return
      case 'cluster':
      case 'pong':
      case 'welcome':
      case 'refuse':
        return
    }
  }

  /** Removes a finished task's future and tells the coordinator it may forget the task. */
  #take(id: number): Future<unknown> | undefined {
    const future = this.#futures.get(id)
    if (!future) {
      if (this.#cancelling.delete(id)) this.#connection.pushItem('release', 'ids', id)
      return undefined
    }
    this.#futures.delete(id)
    this.#connection.pushItem('release', 'ids', id)
    return future.done() ? undefined : future
  }

  #onClose(code: number, reason: string): void {
    const error = new ConnectionLostError(
      `the connection to the coordinator closed (${code}${reason ? `: ${reason}` : ''})`,
    )
    if (this.state === 'running') this.#broken = error
    for (const future of this.#futures.values()) if (!future.done()) future.setException(error)
    this.#futures.clear()
    this.#cancelling.clear()
    for (const ref of this.#remote.values()) {
      const future = ref.deref()
      if (future && !future.done()) future.setException(error)
    }
    this.#remote.clear()
    this.#checkIdle()
  }

  #checkIdle(): void {
    if (this.#futures.size === 0) this.#idle?.()
  }

  protected cancelAll(): void {
    for (const future of [...this.#futures.values()]) future.cancel()
  }

  protected async close(wait: boolean): Promise<void> {
    // Even without `wait`, unfinished tasks run on: the connection closes once they are done.
    void wait
    if (this.#futures.size > 0 && !this.#connection.closed) {
      await new Promise<void>((resolve) => (this.#idle = resolve))
    }
    this.#connection.close(1000, 'client shutdown')
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

/** `Object.keys(o).length > 0` without building the array (once per submitted task). */
function hasOwnKeys(o: object): boolean {
  for (const key in o) if (Object.hasOwn(o, key)) return true
  return false
}

/**
 * This executor's id of each of its futures, as a `WeakMap<Future, number>` would keep it, but
 * stored on the future under a symbol of this executor: a property costs a fraction of a WeakMap
 * entry on every submit, and leaves the garbage collector no ephemerons to trace.
 */
class FutureIds {
  readonly #key = Symbol('clusterpool.ClusterExecutor.id')

  get(future: Future<unknown>): number | undefined {
    return (future as unknown as Record<symbol, number | undefined>)[this.#key]
  }

  set(future: Future<unknown>, id: number): void {
    ;(future as unknown as Record<symbol, number>)[this.#key] = id
  }
}
