import {
  detachBytes,
  nextState,
  type FnRef,
  type ModuleFnRef,
  type SerializedError,
  type TaskOptions,
} from '@clusterpool/protocol'

import type { FunctionProgress } from './progress.js'
import type { ClientSession } from './sessions.js'

/**
 * A task as its client sees it, on the coordinator. The scheduler keeps where the task runs
 * (`TaskState`); this keeps what the client was told and where the value is. Two small state
 * machines, each changed only by the named transitions of its table:
 *
 * The client's future (`ClientTaskState`, `CLIENT_TASK_TRANSITIONS`):
 *
 * ```text
 *               announce               abort
 *   submit ──► pending ──────► running ──────► aborting
 *   scatter ─┘    │              │                │
 *                 │ drop         │ drop-running   │ drop-aborting
 *                 ▼              ▼                ▼
 *              dropped     dropped-running   dropped-aborting
 *
 *   pending | running | aborting | dropped | dropped-running | dropped-aborting ──settle──► settled
 *                                                       settled ──regather──► regathering
 *                                                   regathering ──settle────► settled
 * ```
 *
 * - `pending`: submitted (or scattered); the client waits and has not heard `running`.
 * - `running`: the client heard `running` (the task was assigned to a worker).
 * - `aborting`: the client cancelled it while it ran on a worker. The worker was told to abort
 *   it; the future ends as that run does. An error of that run is final (no retry), and a worker
 *   the task moves to meanwhile (a steal) is told to abort it too.
 * - `settled`: it ended (`memory`, `erred`, `failed`), and the client was told unless it had
 *   dropped the task. Its outcome is counted in the progress.
 * - `regathering`: settled, and the client asked for a value that is being computed again (its
 *   holders were lost): the value goes out when it is back.
 * - `dropped*`: the client dropped it before it ended (release, cancel, disconnect); it hears
 *   nothing more. Kept until the scheduler forgets the key (a dependent may still need the task),
 *   and counted in the progress column it was in (`pending`, or `running` for the other two).
 *
 * Where the value is (`ValueState`, `VALUE_TRANSITIONS`):
 *
 * ```text
 *   scatter ──────────────────────────────┐
 *               arrive              accept ▼
 *   none ────────────► arriving ─────────► inline
 *     │                  ▲   ↺ arrive       │
 *     │ hold      arrive │                  │ store
 *     └────────► held ───┘ ◄────────────────┘
 * ```
 *
 * - `none`: no run reported a result yet.
 * - `arriving`: a run reported the value with its result (a view into the frame). It becomes
 *   the value when the scheduler accepts a result (`memory`): any run's result is a valid value
 *   of the task, so which worker sent it does not matter.
 * - `inline`: the value is here, copied out of its frame: a small result, or scattered data
 *   until it is stored on a worker. It goes to the client with the result and to dependents
 *   inside `assign`, and stays until the task is forgotten.
 * - `held`: the value stays in workers' memory (too large to travel, or scattered data stored):
 *   the client hears only its size, and `gather` relays it.
 */
export const ClientTaskState = {
  PENDING: 'pending',
  RUNNING: 'running',
  ABORTING: 'aborting',
  SETTLED: 'settled',
  REGATHERING: 'regathering',
  DROPPED: 'dropped',
  DROPPED_RUNNING: 'dropped-running',
  DROPPED_ABORTING: 'dropped-aborting',
} as const
export type ClientTaskState = (typeof ClientTaskState)[keyof typeof ClientTaskState]

const {
  PENDING,
  RUNNING,
  ABORTING,
  SETTLED,
  REGATHERING,
  DROPPED,
  DROPPED_RUNNING,
  DROPPED_ABORTING,
} = ClientTaskState

/** Every legal move of a client's task: name → allowed sources and the target. */
export const CLIENT_TASK_TRANSITIONS = {
  /** First assigned to a worker: the client hears `running`. */
  announce: { from: [PENDING], to: RUNNING },
  /** Cancelled while it runs on a worker: the worker is told to abort it. */
  abort: { from: [RUNNING], to: ABORTING },
  /** The client dropped it before it was announced. */
  drop: { from: [PENDING], to: DROPPED },
  /** The client dropped it while it ran (or after its run was lost). */
  'drop-running': { from: [RUNNING], to: DROPPED_RUNNING },
  /** The client dropped it while its run was being aborted: the abort stands. */
  'drop-aborting': { from: [ABORTING], to: DROPPED_ABORTING },
  /** It ended: the client has its outcome (or no longer wanted it). */
  settle: {
    from: [PENDING, RUNNING, ABORTING, DROPPED, DROPPED_RUNNING, DROPPED_ABORTING, REGATHERING],
    to: SETTLED,
  },
  /** The client awaits a value that is being computed again. */
  regather: { from: [SETTLED], to: REGATHERING },
} as const satisfies Record<string, { from: readonly ClientTaskState[]; to: ClientTaskState }>

export type ClientTaskTransition = keyof typeof CLIENT_TASK_TRANSITIONS

export const ValueState = {
  NONE: 'none',
  ARRIVING: 'arriving',
  INLINE: 'inline',
  HELD: 'held',
} as const
export type ValueState = (typeof ValueState)[keyof typeof ValueState]

const { NONE, ARRIVING, INLINE, HELD } = ValueState

/** Every legal move of a task's value: name → allowed sources and the target. */
export const VALUE_TRANSITIONS = {
  /** A run reported the value; it replaces one not accepted yet. */
  arrive: { from: [NONE, ARRIVING, HELD], to: ARRIVING },
  /** A run reported that it keeps the value (it is larger than `holdResultsOverBytes`). */
  hold: { from: [NONE], to: HELD },
  /** The scheduler accepted a result (`memory`): the reported value is the task's. */
  accept: { from: [ARRIVING], to: INLINE },
  /** Scattered data went to the worker that keeps it. */
  store: { from: [INLINE], to: HELD },
} as const satisfies Record<string, { from: readonly ValueState[]; to: ValueState }>

export type ValueTransition = keyof typeof VALUE_TRANSITIONS

/** The progress column a task in `state` counts in; undefined once its outcome is counted. */
export function progressColumn(state: ClientTaskState): 'pending' | 'running' | undefined {
  switch (state) {
    case PENDING:
    case DROPPED:
      return 'pending'
    case RUNNING:
    case ABORTING:
    case DROPPED_RUNNING:
    case DROPPED_ABORTING:
      return 'running'
    case SETTLED:
    case REGATHERING:
      return undefined
  }
}

/** How the client drops a task in each state (`drop()`); null where it has ended or was dropped. */
const DROP_BY_STATE = {
  pending: 'drop',
  running: 'drop-running',
  aborting: 'drop-aborting',
  settled: null,
  regathering: null,
  dropped: null,
  'dropped-running': null,
  'dropped-aborting': null,
} as const satisfies Record<ClientTaskState, ClientTaskTransition | null>

/** The function slot of scattered data (it never runs). */
const SCATTERED: ModuleFnRef = { kind: 'module', url: 'clusterpool:data', exportName: 'scatter' }
const NO_ARGS = new Uint8Array(0)

export type TaskDeps = readonly { readonly id: number; readonly key: string }[]

/**
 * What the coordinator keeps of a task besides the scheduler's record: the code, the encoded
 * arguments, the client's view of it, and the outcome until the client has it and no dependent
 * needs it.
 */
export class ClientTask {
  readonly key: string
  readonly client: ClientSession
  /** The client's id for it. */
  readonly id: number
  readonly fn: FnRef
  readonly args: Uint8Array
  /** Each dependency: the DepRef id in `args` and the task key it stands for. */
  readonly deps: TaskDeps | undefined
  readonly opts: Readonly<TaskOptions> | undefined
  readonly chunk: boolean
  /** Its function's row of the per-function progress; undefined for scattered data. */
  readonly progress: FunctionProgress | undefined
  /** The last error a worker reported (sent to the client if no retry follows). */
  error: SerializedError | undefined = undefined
  #state: ClientTaskState = PENDING
  #value: ValueState = NONE
  /** The value's bytes: while `arriving` a view into a frame, while `inline` a copy. */
  #bytes: Uint8Array | undefined

  /** A submitted task; `args` must not be a view into a frame (see `detachBytes`). */
  constructor(
    key: string,
    client: ClientSession,
    id: number,
    fn: FnRef,
    args: Uint8Array,
    deps: TaskDeps | undefined,
    opts: Readonly<TaskOptions> | undefined,
    chunk: boolean,
    progress: FunctionProgress | undefined,
  ) {
    this.key = key
    this.client = client
    this.id = id
    this.fn = fn
    this.args = args
    this.deps = deps
    this.opts = opts
    this.chunk = chunk
    this.progress = progress
  }

  /** A record of data, not of a task: nothing runs for it. */
  static #data(key: string, client: ClientSession, id: number): ClientTask {
    return new ClientTask(
      key,
      client,
      id,
      SCATTERED,
      NO_ARGS,
      undefined,
      undefined,
      false,
      undefined,
    )
  }

  /** Scattered data: `value` (a copy) stays here, `inline`, until it is stored on a worker. */
  static scattered(key: string, client: ClientSession, id: number, value: Uint8Array): ClientTask {
    const task = ClientTask.#data(key, client, id)
    task.#value = INLINE
    task.#bytes = value
    client.heldBytes += value.byteLength
    return task
  }

  /**
   * A held value a resuming client claims after a coordinator restart: settled (the client has
   * its outcome), its value `held` on a worker, like stored scattered data.
   */
  static adopted(key: string, client: ClientSession, id: number): ClientTask {
    const task = ClientTask.#data(key, client, id)
    task.#value = HELD
    task.#state = SETTLED
    return task
  }

  /**
   * Bytes this task makes the coordinator keep for its client: its arguments, and its value
   * while it is here (`inline`). Counted in `ClientSession.heldBytes` (`maxClientHeldBytes`).
   */
  get heldBytes(): number {
    return this.args.byteLength + (this.#value === INLINE ? this.#bytes!.byteLength : 0)
  }

  /** Data the client scattered, not a task: it never runs and counts in no progress or totals. */
  get scattered(): boolean {
    return this.fn === SCATTERED
  }

  /** The client waits for the task's outcome (`pending`, `running`, `aborting`). */
  get awaited(): boolean {
    switch (this.#state) {
      case PENDING:
      case RUNNING:
      case ABORTING:
        return true
      case SETTLED:
      case REGATHERING:
      case DROPPED:
      case DROPPED_RUNNING:
      case DROPPED_ABORTING:
        return false
    }
  }

  get state(): ClientTaskState {
    return this.#state
  }

  get valueState(): ValueState {
    return this.#value
  }

  /** The value when it is here (`inline`). */
  get value(): Uint8Array | undefined {
    return this.#value === INLINE ? this.#bytes : undefined
  }

  /** The worker was told to abort its run for the client (`aborting`, dropped or not). */
  get aborting(): boolean {
    return this.#state === ABORTING || this.#state === DROPPED_ABORTING
  }

  /** Moves the client's view along a named transition; throws on an illegal move (a bug). */
  to(name: ClientTaskTransition): void {
    this.#state = nextState(
      CLIENT_TASK_TRANSITIONS,
      name,
      this.#state,
      'coordinator: task',
      this.key,
    )
  }

  /** The client dropped the task (release, cancel, disconnect); false if it had ended already. */
  drop(): boolean {
    const name = DROP_BY_STATE[this.#state]
    if (name === null) return false
    this.to(name)
    return true
  }

  /** A run reported the value (a view into its frame, copied when accepted). */
  arrive(bytes: Uint8Array): void {
    this.#move('arrive')
    this.#bytes = bytes
  }

  /** A run reported that it keeps the value. */
  hold(): void {
    this.#move('hold')
  }

  /** The scheduler accepted a result: the value reported with it is the task's. */
  accept(): void {
    this.#move('accept')
    this.#bytes = detachBytes(this.#bytes!)
    this.client.heldBytes += this.#bytes.byteLength
  }

  /** Hands the scattered value over to be stored on a worker; it is `held` from now on. */
  store(): Uint8Array {
    const bytes = this.#bytes!
    this.#move('store')
    this.#bytes = undefined
    this.client.heldBytes -= bytes.byteLength
    return bytes
  }

  #move(name: ValueTransition): void {
    this.#value = nextState(VALUE_TRANSITIONS, name, this.#value, 'coordinator: value of', this.key)
  }
}
