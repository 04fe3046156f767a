// A coordinator played by the test: the far end of an in-process link to a ClusterExecutor. It
// records what the client sends and answers with the exact messages a real coordinator sends.
import {
  PROTOCOL_VERSION,
  createDecoder,
  createEncoder,
  encodeValue,
  serializeError,
  type ClientToCoordinator,
  type ClientWelcome,
  type CoordinatorToClient,
  type SubmitTask,
} from '@clusterpool/protocol'
import { LoopbackEnd } from '@clusterpool/transport'

import { ClusterExecutor } from '../src/index.js'

type Kind = ClientToCoordinator['kind']
type OfKind<K extends Kind> = Extract<ClientToCoordinator, { kind: K }>

export const WELCOME: ClientWelcome = {
  kind: 'welcome',
  version: PROTOCOL_VERSION,
  clientId: 'client-7',
  maxPayload: 1 << 20,
  coordinator: {
    name: 'scripted',
    versions: { node: process.versions.node, clusterpool: '0.1.0' },
    workers: 2,
    procs: 8,
  },
}

export class ScriptedCoordinator {
  readonly executor: ClusterExecutor
  /** Every message the client sent, in order. */
  readonly log: ClientToCoordinator[] = []
  /** How the link closed, once it has. */
  closedWith: { code: number; reason: string } | undefined
  readonly #client: LoopbackEnd<CoordinatorToClient, ClientToCoordinator>
  readonly #end: LoopbackEnd<ClientToCoordinator, CoordinatorToClient>
  // Values travel as the worker encoded them; the coordinator passes the bytes through.
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()

  constructor(welcome: ClientWelcome = WELCOME) {
    const [client, end] = LoopbackEnd.pair<CoordinatorToClient, ClientToCoordinator>()
    this.#client = client
    this.#end = end
    end.setHandlers({
      onMessages: (messages) => this.log.push(...messages),
      onClose: (code, reason) => (this.closedWith = { code, reason }),
    })
    this.executor = ClusterExecutor.overLink(client, welcome)
  }

  /** Everything the client sent so far: what it still queues (lazy kinds too) is delivered first. */
  messages(): ClientToCoordinator[] {
    this.#client.flush()
    return this.log
  }

  /** The messages of one kind. */
  of<K extends Kind>(kind: K): OfKind<K>[] {
    return this.messages().filter((m): m is OfKind<K> => m.kind === kind)
  }

  /** The tasks of every `submit`, in order. */
  tasks(): SubmitTask[] {
    return this.of('submit').flatMap((m) => m.tasks)
  }

  /** The ids of every `cancel`, `release` or `gather`, in order. */
  ids(kind: 'cancel' | 'release' | 'gather'): number[] {
    return this.of(kind).flatMap((m) => m.ids)
  }

  /** A task's arguments as the worker would decode them (`DepRef`s where futures were). */
  args(task: SubmitTask): unknown[] {
    return this.#decoder.decode(task.args) as unknown[]
  }

  encode(value: unknown): Uint8Array {
    return encodeValue(this.#encoder, value, 'the result')
  }

  /** Sends messages to the client and delivers them now. */
  send(...messages: CoordinatorToClient[]): void {
    for (const m of messages) this.#end.send(m)
    this.#end.flush()
  }

  running(...ids: number[]): void {
    this.send({ kind: 'running', ids })
  }

  /** Values that come back with the result, as `[id, value]` pairs. */
  results(...pairs: [number, unknown][]): void {
    this.send({ kind: 'results', items: pairs.map(([id, v]) => ({ id, value: this.encode(v) })) })
  }

  /** The task finished and its `nbytes` result stays on a worker. */
  held(id: number, nbytes = 1 << 20): void {
    this.send({ kind: 'results', items: [{ id, held: nbytes }] })
  }

  errors(...pairs: [number, Error][]): void {
    this.send({
      kind: 'errors',
      items: pairs.map(([id, e]) => ({ id, error: serializeError(e) })),
    })
  }

  cancelled(...ids: number[]): void {
    this.send({ kind: 'cancelled', ids })
  }

  /** The coordinator drops the link. */
  close(code = 1006, reason = ''): void {
    this.#end.close(code, reason)
  }
}
