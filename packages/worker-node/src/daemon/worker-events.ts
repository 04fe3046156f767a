import {
  CoordinatorToWorkerKind,
  type AssignTask,
  type DataItem,
  type NestedItem,
  type SerializedError,
  type WorkerErrorItem,
  type WorkerResultItem,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'

import type { PoolTask } from '@clusterpool/pool'

/**
 * What `WorkerState` is told: a message from the coordinator, something the pool reported, or
 * a change of the link. Each carries the `stimulusId` the daemon gave it; the instructions it
 * causes carry the same id, and so do the errors of a transition it makes illegally.
 */
export const WorkerEventKind = {
  /** The coordinator's welcome arrived: serving starts. */
  CONNECTED: 'connected',
  /** The coordinator refused this worker for good (wrong token, other protocol version). */
  REFUSED: 'refused',
  /** The connection closed or went silent. */
  COORDINATOR_LOST: 'coordinator-lost',
  // A coordinator message is the event of the same kind.
  ASSIGN: CoordinatorToWorkerKind.ASSIGN,
  CANCEL: CoordinatorToWorkerKind.CANCEL,
  STEAL: CoordinatorToWorkerKind.STEAL,
  FETCH: CoordinatorToWorkerKind.FETCH,
  STORE: CoordinatorToWorkerKind.STORE,
  RELEASE: CoordinatorToWorkerKind.RELEASE,
  SHUTDOWN: CoordinatorToWorkerKind.SHUTDOWN,
  /** The pool handed a task to a process. */
  TASK_STARTED: 'task-started',
  TASK_FINISHED: 'task-finished',
  TASK_ERRED: 'task-erred',
  /** A running task's executor sent a frame (`currentTask().executor`). */
  TASK_NESTED: 'task-nested',
  /** A running task waits for its executor's futures: its slot is free. */
  TASK_SECEDED: 'task-seceded',
  /** Its wait ended: it holds its slot again. */
  TASK_REJOINED: 'task-rejoined',
  /** The coordinator's frames for running tasks' executors. */
  NESTED: CoordinatorToWorkerKind.NESTED,
  /** SIGTERM/SIGINT, or `drain()`. */
  DRAIN: 'drain',
  /** The drain is over: nothing runs any more, or the drain timeout passed. */
  DRAINED: 'drained',
} as const
export type WorkerEventKind = (typeof WorkerEventKind)[keyof typeof WorkerEventKind]

interface Stimulus<K extends WorkerEventKind> {
  readonly kind: K
  readonly stimulusId: number
}

export interface ConnectedEvent extends Stimulus<'connected'> {
  /** Results larger than this stay here; bytes. Left out: `DEFAULT_HOLD_OVER_BYTES`. */
  readonly holdResultsOverBytes?: number
  /** The largest frame the coordinator takes, in bytes. Left out: unlimited. */
  readonly maxPayload?: number
}
export type RefusedEvent = Stimulus<'refused'>
export type CoordinatorLostEvent = Stimulus<'coordinator-lost'>
export interface AssignEvent extends Stimulus<'assign'> {
  readonly tasks: readonly AssignTask[]
}
export interface KeysEvent<K extends 'cancel' | 'steal' | 'fetch' | 'release'> extends Stimulus<K> {
  readonly keys: readonly string[]
}
export interface StoreEvent extends Stimulus<'store'> {
  readonly items: readonly DataItem[]
}
export type ShutdownEvent = Stimulus<'shutdown'>
export interface TaskStartedEvent extends Stimulus<'task-started'> {
  /** The pool's id of the task. */
  readonly id: number
}
export interface TaskFinishedEvent extends Stimulus<'task-finished'> {
  readonly id: number
  /** The encoded result; it owns its bytes (the pool copies every result out of its reads). */
  readonly value: Uint8Array
  readonly durationMs: number
}
export interface TaskErredEvent extends Stimulus<'task-erred'> {
  readonly id: number
  readonly error: SerializedError
  readonly durationMs: number
}
export interface TaskNestedEvent extends Stimulus<'task-nested'> {
  readonly id: number
  readonly payload: Uint8Array
}
export interface TaskWaitEvent<K extends 'task-seceded' | 'task-rejoined'> extends Stimulus<K> {
  readonly id: number
}
export interface NestedEvent extends Stimulus<'nested'> {
  readonly items: readonly NestedItem[]
}
export type DrainEvent = Stimulus<'drain'>
export type DrainedEvent = Stimulus<'drained'>

export type WorkerEvent =
  | ConnectedEvent
  | RefusedEvent
  | CoordinatorLostEvent
  | AssignEvent
  | KeysEvent<'cancel'>
  | KeysEvent<'steal'>
  | KeysEvent<'fetch'>
  | KeysEvent<'release'>
  | StoreEvent
  | ShutdownEvent
  | TaskStartedEvent
  | TaskFinishedEvent
  | TaskErredEvent
  | TaskNestedEvent
  | TaskWaitEvent<'task-seceded'>
  | TaskWaitEvent<'task-rejoined'>
  | NestedEvent
  | DrainEvent
  | DrainedEvent

/** What `WorkerState` asks the daemon to do, in order. */
export const InstructionKind = {
  /** `pool.submit(instruction)`: the instruction is the `PoolTask`. */
  RUN_TASK: 'run-task',
  /** `pool.cancel(id)`: take a task that has not started out of the pool's queue. */
  DROP_TASK: 'drop-task',
  /** `pool.abort(id)`: fire a started task's abort signal. */
  ABORT_TASK: 'abort-task',
  /** `connection.send(message)`. */
  SEND: 'send',
  /** `connection.pushItem('results', 'items', item)`. */
  SEND_RESULT: 'send-result',
  /** `connection.pushItem('errors', 'items', item)`. */
  SEND_ERROR: 'send-error',
  /** `connection.pushItem('nested', 'items', item)`: a task's frame to the coordinator. */
  SEND_NESTED: 'send-nested',
  /** `connection.pushItem(list, 'keys', key)`: a task seceded or rejoined. */
  SEND_WAIT: 'send-wait',
  /** `pool.sendNested(id, payload)`: a frame for a running task's executor. */
  TO_TASK: 'to-task',
  /** `connection.flush()`: what is queued leaves now. */
  FLUSH: 'flush',
  /** Dial the coordinator again (with backoff). */
  RECONNECT: 'reconnect',
  /** Close the connection, kill the pool's processes, and exit with `code`. */
  STOP: 'stop',
  /** Remove the spill files of values no longer held (`[key, size]`). */
  FORGET_SPILLED: 'forget-spilled',
} as const
export type InstructionKind = (typeof InstructionKind)[keyof typeof InstructionKind]

interface Caused<K extends InstructionKind> {
  readonly kind: K
  /** The event that caused it. */
  readonly stimulusId: number
}

export interface RunTask extends Caused<'run-task'>, PoolTask {}
export interface DropTask extends Caused<'drop-task'> {
  readonly id: number
}
export interface AbortTask extends Caused<'abort-task'> {
  readonly id: number
}
export interface Send extends Caused<'send'> {
  readonly message: WorkerToCoordinator
}
export interface SendResult extends Caused<'send-result'> {
  readonly item: WorkerResultItem
}
export interface SendError extends Caused<'send-error'> {
  readonly item: WorkerErrorItem
}
export interface SendNested extends Caused<'send-nested'> {
  readonly item: NestedItem
}
export interface SendWait extends Caused<'send-wait'> {
  readonly list: 'seceded' | 'rejoined'
  readonly key: string
}
export interface ToTask extends Caused<'to-task'> {
  readonly id: number
  readonly payload: Uint8Array
}
export type Flush = Caused<'flush'>
export type Reconnect = Caused<'reconnect'>
export interface Stop extends Caused<'stop'> {
  /** The exit code: 0 after a drain or a shutdown, 1 when refused. */
  readonly code: number
}

export interface ForgetSpilled extends Caused<'forget-spilled'> {
  readonly files: readonly (readonly [key: string, size: number])[]
}

export type WorkerInstruction =
  | RunTask
  | DropTask
  | AbortTask
  | Send
  | SendResult
  | SendError
  | SendNested
  | SendWait
  | ToTask
  | Flush
  | Reconnect
  | Stop
  | ForgetSpilled
