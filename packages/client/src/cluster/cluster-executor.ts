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
  type Refuse,
  type FnRef,
  type SubmitTask,
  type TaskOptions,
  type WireFnRef,
} from '@clusterpool/protocol'
import {
  DEFAULT_DIAL_MAX_PAYLOAD,
  openSession,
  type ConnectionHandlers,
  type DialOptions,
  type MessageSink,
} from '@clusterpool/transport'

import { Future } from '../future/future.js'
import { numberedFuture, removeDoneCallback, setAbortHandler } from '../future/internal.js'
import { FutureSlot } from '../future/slot.js'
import { BaseExecutor, type ScheduledCall } from '../executor/base-executor.js'
import type { Task } from '../task/task.js'
import { classifyDone, replaceFutures } from '../executor/future-args.js'
import { ExecutorEventSource, type ClusterExecutorEvents } from './executor-events.js'
import { HeldValues } from './held-values.js'
import { ResilientLink } from './resilient-link.js'
import { Resubmits } from './resubmits.js'

export interface ClusterExecutorOptions extends DialOptions {
  /** A name for this client on the dashboard and in logs. Default `client-<pid>`. */
  name?: string
  /** Ping the coordinator this often; three intervals without a pong drop the connection. Milliseconds; default 5000. */
  keepAliveIntervalMs?: number
  /**
   * How long to ride out a lost connection (a coordinator restart): the executor redials with
   * jittered backoff, its futures stay pending and new submits wait; once welcomed again it
   * sends its unfinished tasks again. Only when this time is up do the futures fail with
   * `ConnectionLostError` and the executor break. 0 breaks it at once, as on a first failure.
   * Milliseconds; default 60000 (60 s).
   */
  reconnectTimeoutMs?: number
  /** Where the one line per outage and per recovery goes. Default `console.warn`. */
  log?: (message: string) => void
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
 * Each client sees only its own futures. If the connection is lost (a coordinator restart), the
 * executor rides it out: it redials for up to `reconnectTimeoutMs` (60 s by default), its
 * futures stay pending and new submits wait, and on reconnect it sends its unfinished tasks
 * again under the same ids (see `Resubmits`), while held values are claimed back from the
 * workers that kept them. Only when that time is up do the unfinished futures fail with
 * `ConnectionLostError`, and the executor is broken (`BrokenExecutorError` on submit). Events
 * `disconnected` and `reconnected` tell listeners (`ex.on`).
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
  #welcome: ClientWelcome
  /** The unfinished tasks' submits, kept to send again after a reconnect (none over a link that cannot drop). */
  readonly #resubmits: Resubmits | undefined
  /** Finished tasks whose value stays on a worker (fetched on demand). */
  readonly #held: HeldValues
  /** Ids the last resume hello claimed back. */
  #claimed: ReadonlySet<number> = new Set()
  readonly #events = new ExecutorEventSource()
  /** Workers connected, as the coordinator last said (for a resume). */
  #workers: number
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #futures = new Map<number, Future<unknown>>()
  /**
   * Ids cancelled here before the coordinator said they run. The coordinator may have handed
   * the task to a worker already: it then aborts it and reports its outcome, and keeps the task
   * (and a held value) until this client releases it.
   */
  readonly #cancelling = new Set<number>()
  /** This executor's id of each of its futures. */
  readonly #ids = new FutureSlot<number>('clusterpool.ClusterExecutor.id')
  /** Functions whose source the coordinator has, by hash: the reference to send without it. */
  readonly #sentSources = new Map<string, WireFnRef>()
  #nextId = 0
  #broken: Error | undefined
  #idle: (() => void) | undefined

  protected constructor(connection: CoordinatorLink, welcome: ClientWelcome, resumable = false) {
    super()
    this.#connection = connection
    this.#welcome = welcome
    this.#workers = welcome.coordinator.workers
    this.#resubmits = resumable ? new Resubmits() : undefined
    this.#held = new HeldValues(connection, (id, future) => this.#futures.set(id, future))
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
    const reconnectTimeoutMs = checkMs(
      options.reconnectTimeoutMs ?? 60_000,
      'options.reconnectTimeoutMs',
      { max: MAX_TIMER_MS, allowZero: true },
    )
    const hello: ClientHello = {
      kind: 'hello',
      version: PROTOCOL_VERSION,
      role: 'client',
      name: options.name ?? `client-${process.pid}`,
      maxPayload: options.maxPayload ?? DEFAULT_DIAL_MAX_PAYLOAD,
    }
    const { connection, welcome } = await openSession<
      'coordinator->client',
      ClientToCoordinator,
      ClientWelcome
    >(url, 'coordinator->client', hello, options)
    const resumeToken = welcome.resumeToken
    if (reconnectTimeoutMs === 0 || resumeToken === undefined) {
      // A coordinator that vanished without closing (a partition, a frozen host) is noticed by
      // pings: the connection is dropped and the unfinished futures fail with ConnectionLostError.
      connection.keepAlive(keepAliveMs, 3 * keepAliveMs)
      return new ClusterExecutor(connection, welcome)
    }
    // The link calls back into the executor it is made for (built right after it).
    const self: { executor?: ClusterExecutor } = {}
    const link = new ResilientLink(connection, {
      url,
      dial: options,
      keepAliveMs,
      reconnectTimeoutMs,
      hello: () => self.executor!.#resumeHello(hello, resumeToken),
      resume: (next) => self.executor!.#resume(next),
      events: new ExecutorEventSource(),
      log: options.log ?? ((message) => console.warn(message)),
    })
    const executor = new ClusterExecutor(link, welcome, true)
    self.executor = executor
    link.events = executor.#events
    return executor
  }

  /**
   * Listens to the link's events (`disconnected`, `reconnected`), typed by
   * `ClusterExecutorEvents`. Each comes once per outage, however many redials it takes.
   */
  on<K extends keyof ClusterExecutorEvents>(name: K, listener: ClusterExecutorEvents[K]): this {
    this.#events.on(name, listener)
    return this
  }

  off<K extends keyof ClusterExecutorEvents>(name: K, listener: ClusterExecutorEvents[K]): this {
    this.#events.off(name, listener)
    return this
  }

  /** Unfinished tasks and scatters kept to send again after a reconnect. */
  get pendingResubmits(): number {
    return this.#resubmits?.size ?? 0
  }

  /** The `hello` of a redial: this client's id and proof, and the held values it still refers to. */
  #resumeHello(first: ClientHello, resumeToken: string): ClientHello {
    this.#claimed = this.#held.claims()
    return {
      ...first,
      resume: {
        clientId: this.#welcome.clientId,
        resumeToken,
        held: [...this.#claimed],
        workers: this.#workers,
      },
    }
  }

  /** Welcomed again after an outage: the unfinished work goes out again, in dependency order. */
  #resume(welcome: ClientWelcome): { resubmitted: number; claimed: number } {
    this.#welcome = welcome
    this.#workers = welcome.coordinator.workers
    this.#sentSources.clear() // a new connection: every source is sent again, once
    this.#cancelling.clear() // cancelled here: not sent again, so nothing to confirm
    const resubmitted = this.#resubmits!.replay(this.#connection, this.#futures, this.#claimed, {
      idOf: (f) => this.#ids.get(f),
      wireFn: (ref) => this.#wireRef(ref),
      encode: (value) => encodeValue(this.#encoder, value, 'dependency value'),
      fail: (id, error) => this.#take(id)?.setException(error),
    })
    this.#held.regather()
    this.#connection.flush()
    return { resubmitted, claimed: this.#claimed.size }
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

  protected override submitTask(
    t: Task,
    args: unknown[],
    future?: Future<unknown>,
  ): Future<unknown> {
    // Arguments that are all primitives hold no futures: skip the walk (and what it allocates).
    if (!args.some(isObject))
      return this.#submit(t.ref, t.options, args, false, undefined, undefined, future)
    let depFutures: Future<unknown>[] | undefined
    const replaced = replaceFutures(args, (f) => {
      const done = classifyDone(f)
      if (done) return done
      const id = this.#ids.get(f)
      if (id !== undefined && this.#resubmits) (depFutures ??= []).push(f)
      return id === undefined ? { kind: 'foreign' } : { kind: 'dep', id }
    })
    if ('foreign' in replaced) {
      // Another executor's futures are waited for here; this one's become dependencies.
      const foreign = (f: Future<unknown>): boolean => this.#ids.get(f) === undefined && !f.done()
      return this.waitForFutures(t, args, foreign, future)
    }
    if ('failed' in replaced) {
      const failed = future ?? new Future<unknown>()
      if (!failed.done()) failed.setException(replaced.failed)
      return failed
    }
    return this.#submit(t.ref, t.options, replaced.args, false, replaced.deps, depFutures, future)
  }

  protected schedule(call: ScheduledCall): Future<unknown> {
    const chunk = call.chunk === true
    return this.#submit(call.ref, call.options, call.args, chunk, undefined, undefined, call.future)
  }

  protected override newFuture(ref: FnRef): Future<unknown> {
    return numberedFuture<unknown>(fnLabel(ref), ++this.#nextId)
  }

  /** Sends one task (its fields as parameters: no call object, no empty list, per task). */
  #submit(
    ref: FnRef,
    options: Readonly<TaskOptions>,
    plainArgs: unknown[],
    chunk = false,
    deps?: number[],
    depFutures?: Future<unknown>[],
    premade?: Future<unknown>,
  ): Future<unknown> {
    const id = ++this.#nextId
    const future = premade ?? numberedFuture<unknown>(fnLabel(ref), id)
    if (this.#connection.closed) {
      // A task that waited for another executor's futures, resumed after this one broke.
      const lost = new ConnectionLostError('the connection to the coordinator is closed')
      future.setException(this.#broken ?? lost)
      return future
    }
    const args = this.#encode(future, plainArgs, 'argument', 'the encoded arguments')
    if (!args) return future
    this.#futures.set(id, future)
    this.#ids.set(future, id)
    future.addDoneCallback(this.#onPendingDone)
    setAbortHandler(future, this.#abortRunning)
    const task: { -readonly [K in keyof SubmitTask]: SubmitTask[K] } = {
      id,
      fn: this.#wireRef(ref),
      args,
    }
    if (deps !== undefined && deps.length > 0) task.deps = deps
    if (hasOwnKeys(options)) task.opts = options
    if (chunk) task.chunk = true
    this.#connection.pushItem('submit', 'tasks', task)
    this.#resubmits?.submitted(future, task, ref, depFutures)
    this.onSubmitted(future, id)
    return future
  }

  /** A running task's future was cancelled: the coordinator aborts the task. */
  readonly #abortRunning = (future: Future<unknown>): void => {
    const id = this.#ids.get(future)
    if (id !== undefined) this.#connection.pushItem('cancel', 'ids', id)
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
      this.#resubmits?.settled(f)
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
    const item = { id, value: bytes, ...(workers ? { workers } : {}) }
    this.#connection.pushItem('scatter', 'items', item)
    this.#resubmits?.scattered(future as Future<unknown>, item)
    return future
  }

  /** The values of many futures, in order; rejects with the first error, like `Promise.all`. */
  gather<T>(futures: Iterable<Future<T>>): Promise<T[]> {
    return Promise.all([...futures].map((f) => f.result()))
  }

  /** The task finished and its value stays on a worker: fetch it once someone wants it. */
  #onHeld(id: number): void {
    this.#held.answered(id)
    const future = this.#futures.get(id)
    if (future) this.#resubmits?.settled(future)
    if (!future || future.done()) {
      if (this.#cancelling.delete(id)) this.#connection.pushItem('release', 'ids', id)
      return
    }
    this.#futures.delete(id)
    this.#held.keep(id, future)
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

  #wireRef(ref: FnRef): WireFnRef {
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
          if (future) this.#resubmits?.ran(future)
          // Running futures cannot be cancelled: the watcher is of no more use. (A task sent
          // again after a reconnect is announced again: it is running already.)
          if (future?.running() === false && future.setRunningOrNotifyCancel())
            removeDoneCallback(future, this.#onPendingDone)
        }
        return
      case 'results':
        for (const item of m.items) {
          if (item.held !== undefined) {
            this.#onHeld(item.id)
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
        this.#workers = m.workers
        return
      case 'refuse':
        // The far side lost what it knew (a task's worker lost the coordinator): the sources
        // this executor sent are not known there any more, so each goes again with its next task.
        this.#sentSources.clear()
        this.onRefuse(m)
        return
      case 'pong':
      case 'welcome':
        return
    }
  }

  /** A `refuse` after the handshake (a task's executor hears one when its worker lost the coordinator). */
  protected onRefuse(refuse: Refuse): void {
    void refuse
  }

  /** Removes a finished task's future and tells the coordinator it may forget the task. */
  #take(id: number): Future<unknown> | undefined {
    this.#held.answered(id)
    const future = this.#futures.get(id)
    if (!future) {
      if (this.#cancelling.delete(id)) this.#connection.pushItem('release', 'ids', id)
      return undefined
    }
    this.#resubmits?.settled(future)
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
    this.#held.fail(error)
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
