// Builds a CoordinatorCore with fake client and worker sessions: every link is a `Recorder`,
// so a test feeds messages in and asserts the exact messages that come out. No sockets, no
// timers (the tick runs only when a test calls `core.tick()`).
import {
  PROTOCOL_VERSION,
  type AssignTask,
  type ClientHello,
  type ClientToCoordinator,
  type CoordinatorToClient,
  type CoordinatorToWorker,
  type Message,
  type ModuleFnRef,
  type SubmitTask,
  type WorkerInventory,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'
import type { ItemOf, ItemsKey, MessageSink, OfKind } from '@clusterpool/transport'
import { pino } from 'pino'

import { CoordinatorCore } from '../../src/core/coordinator-core.js'
import type { ClientSession, WorkerSession } from '../../src/core/sessions.js'
import type { CoordinatorMetrics } from '../../src/http/metrics.js'
import type { SchedulerOptions } from '../../src/scheduler/options.js'
import { resolveCoordinatorOptions, type CoordinatorOptions } from '../../src/server/options.js'

/**
 * A `MessageSink` that records what is sent to the peer. Like the real outbox it appends an
 * item to the last queued message when that is of the same kind; unlike it, nothing ever
 * leaves: `take()` hands the messages to the test.
 */
export class Recorder<Out extends Message> implements MessageSink<Out> {
  closed = false
  closedWith: { code: number | undefined; reason: string | undefined } | undefined
  #messages: Out[] = []

  send(message: Out): void {
    if (!this.closed) this.#messages.push(message)
  }

  pushItem<K extends Out['kind'], F extends ItemsKey<OfKind<Out, K>>>(
    kind: K,
    field: F,
    item: ItemOf<OfKind<Out, K>, F>,
  ): void {
    if (this.closed) return
    const last = this.#messages.at(-1) as Record<string, unknown> | undefined
    const list = last?.kind === kind ? last[field as string] : undefined
    if (Array.isArray(list)) list.push(item)
    else this.#messages.push({ kind, [field]: [item] } as unknown as Out)
  }

  /** Backpressure as a socket's: `congestOnFlush` makes every flush congest until `drain()`. */
  congested = false
  congestOnFlush = false
  flushes = 0
  #drainListeners: (() => void)[] = []

  flush(): void {
    this.flushes++
    if (this.congestOnFlush) this.congested = true
  }

  onceDrained(listener: () => void): void {
    if (this.congested) this.#drainListeners.push(listener)
    else listener()
  }

  /** The socket drained: listeners run. */
  drain(): void {
    this.congested = false
    const listeners = this.#drainListeners
    this.#drainListeners = []
    for (const l of listeners) l()
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return
    this.closed = true
    this.closedWith = { code, reason }
  }

  /** The messages sent since the last `take`. */
  take(): Out[] {
    const messages = this.#messages
    this.#messages = []
    return messages
  }

  /** Like `take`, but only the messages of `kind` (the others are dropped too). */
  takeKind<K extends Out['kind']>(kind: K): OfKind<Out, K>[] {
    return this.take().filter((m): m is OfKind<Out, K> => m.kind === kind)
  }
}

export interface FakeClient {
  readonly session: ClientSession
  readonly link: Recorder<CoordinatorToClient>
  /** Feeds messages to the core as one batch from this client. */
  send(...messages: ClientToCoordinator[]): void
  /** The key the coordinator gives this client's task `id`. */
  key(id: number): string
}

export interface FakeWorker {
  readonly session: WorkerSession
  readonly link: Recorder<CoordinatorToWorker>
  readonly id: string
  send(...messages: WorkerToCoordinator[]): void
}

export interface TestCore {
  readonly core: CoordinatorCore
  /** A client; `hello` adds to its hello (a `resume`). */
  client(name?: string, hello?: Partial<ClientHello>): FakeClient
  /** A worker; `inventory` makes it one that re-registers after an outage. */
  worker(
    name: string,
    init?: { procs?: number; host?: string; inventory?: WorkerInventory },
  ): FakeWorker
}

export const F: ModuleFnRef = { kind: 'module', url: 'file:///tasks.js', exportName: 'f' }
export const ARGS = new Uint8Array([0x90]) // msgpack: []

/** The `assign` item of a task of `F` (no dependencies or options). */
export function assigned(key: string, attempt = 1): AssignTask {
  return { key, fn: F, args: ARGS, attempt }
}

/** The `errorsIn` row of a ProtocolError. */
export function protocolError(id: number, message: string): ReturnType<typeof errorsIn>[number] {
  return { id, name: 'ProtocolError', code: 'CP_ERR_PROTOCOL', message }
}

/** A `submit` task of `F` with id `id`. */
export function task(id: number, extra: Partial<SubmitTask> = {}): SubmitTask {
  return { id, fn: F, args: ARGS, ...extra }
}

/**
 * A core with silent logs and no metrics unless `metrics` is given; `scheduler` tunes its
 * scheduler (stealing off by default).
 */
export function testCore(
  options: CoordinatorOptions = {},
  scheduler: SchedulerOptions = { workStealing: false },
  metrics?: CoordinatorMetrics,
): TestCore {
  const core = new CoordinatorCore(
    resolveCoordinatorOptions({ logLevel: 'silent', ...options }),
    pino({ level: 'silent' }),
    metrics,
    scheduler,
  )
  return {
    core,
    client(name = 'test-client', hello = {}): FakeClient {
      const link = new Recorder<CoordinatorToClient>()
      const session = core.addClient(
        link,
        { kind: 'hello', version: PROTOCOL_VERSION, role: 'client', name, ...hello },
        'test',
      )
      return {
        session,
        link,
        send: (...messages) => core.onClientMessages(session, messages),
        key: (id) => session.key(id),
      }
    },
    worker(name, init = {}): FakeWorker {
      const link = new Recorder<CoordinatorToWorker>()
      const session = core.addWorker(
        link,
        {
          kind: 'hello',
          version: PROTOCOL_VERSION,
          role: 'worker',
          name,
          host: init.host ?? `${name}-host`,
          pid: 1,
          procs: init.procs ?? 1,
          resources: {},
          memoryBytes: 1 << 30,
          versions: { node: process.versions.node, clusterpool: 'test' },
          ...(init.inventory === undefined ? {} : { inventory: init.inventory }),
        },
        'test',
      )
      return {
        session,
        link,
        id: session.id,
        send: (...messages) => core.onWorkerMessages(session, messages),
      }
    },
  }
}

/** A result item as a worker reports it: inline `value`, or held when `value` is undefined. */
export function result(
  key: string,
  value: Uint8Array | undefined,
  size = value?.byteLength ?? 0,
): WorkerToCoordinator {
  return {
    kind: 'results',
    items: [
      value === undefined ? { key, size, durationMs: 5 } : { key, value, size, durationMs: 5 },
    ],
  }
}

/** The `errors` items among `messages`, each as id, error name, code and message (no stack). */
export function errorsIn(
  messages: readonly CoordinatorToClient[],
): { id: number; name: string; code: string | undefined; message: string }[] {
  return messages.flatMap((m) =>
    m.kind === 'errors'
      ? m.items.map((i) => ({
          id: i.id,
          name: i.error.name,
          code: i.error.code,
          message: i.error.message,
        }))
      : [],
  )
}

/** A task error as a worker reports it. */
export function failure(key: string, message = 'boom', name = 'Error'): WorkerToCoordinator {
  return { kind: 'errors', items: [{ key, error: { name, message }, durationMs: 3 }] }
}
