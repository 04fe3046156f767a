import {
  BrokenExecutorError,
  ConnectionLostError,
  PROTOCOL_VERSION,
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
} from '@clusterpool/worker-node'

import { Future } from '../future/future.js'
import { setAbortHandler } from '../future/internal.js'
import { BaseExecutor, type ScheduledCall } from '../executor/base-executor.js'
import type { Task } from '../task/task.js'
import { classifyDone, replaceFutures } from './dependencies.js'

export interface ClusterExecutorOptions extends DialOptions {
  /** A name for this client on the dashboard and in logs. Default `client-<pid>`. */
  name?: string
  /** Ping the coordinator this often; three intervals without a pong drop the connection. Milliseconds; default 5000. */
  keepAliveIntervalMs?: number
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
 */
export class ClusterExecutor extends BaseExecutor {
  readonly #connection: CoordinatorLink
  readonly #welcome: ClientWelcome
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #futures = new Map<number, Future<unknown>>()
  readonly #ids = new WeakMap<Future<unknown>, number>()
  readonly #sentSources = new Set<string>()
  #nextId = 0
  #broken: Error | undefined
  #idle: (() => void) | undefined

  private constructor(connection: CoordinatorLink, welcome: ClientWelcome) {
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
    connection.keepAlive(
      options.keepAliveIntervalMs ?? 5000,
      3 * (options.keepAliveIntervalMs ?? 5000),
    )
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
    let args: Uint8Array
    try {
      args = encodeValue(this.#encoder, call.args, 'argument')
      const tooLarge = frameTooLarge(
        args.byteLength + 1024,
        this.#welcome.maxPayload,
        'the encoded arguments',
      )
      if (tooLarge) throw tooLarge
    } catch (error) {
      future.setException(error as Error)
      return future
    }
    this.#futures.set(id, future)
    this.#ids.set(future, id)
    future.addDoneCallback((f) => {
      if (f.cancelled() && this.#futures.delete(id)) {
        this.#connection.pushItem('cancel', 'ids', id)
        this.#checkIdle()
      }
    })
    setAbortHandler(future, () => this.#connection.pushItem('cancel', 'ids', id))
    const task: SubmitTask = {
      id,
      fn: this.#wireFn(call),
      args,
      ...(deps.length > 0 ? { deps } : {}),
      ...(Object.keys(call.options).length > 0 ? { opts: call.options } : {}),
      ...(call.chunk ? { chunk: true } : {}),
    }
    this.#connection.pushItem('submit', 'tasks', task)
    return future
  }

  #wireFn(call: ScheduledCall): WireFnRef {
    const ref = call.ref
    if (ref.kind === 'module') return ref
    if (this.#sentSources.has(ref.hash)) return { kind: 'source', hash: ref.hash, name: ref.name }
    this.#sentSources.add(ref.hash)
    return ref
  }

  #handle(m: CoordinatorToClient): void {
    switch (m.kind) {
      case 'running':
        for (const id of m.ids) this.#futures.get(id)?.setRunningOrNotifyCancel()
        return
      case 'results':
        for (const item of m.items) {
          const future = this.#take(item.id)
          if (!future || item.value === undefined) continue
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
    if (!future) return undefined
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
