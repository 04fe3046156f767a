/**
 * Task states on the coordinator and the named transitions between them.
 *
 * ```text
 *                        ready              assign
 *   submit ──► waiting ───────► queued ───────────► processing ──finish──► memory ◄──scatter── waiting
 *               ▲ │ ▲             │                  │    │                  │  │
 *               │ │ └─lose-input──┘                  │    │                  │  │ drop-data
 *               │ └────────────── place ────────────►│    │                  │  ▼
 *               ├──────────────── requeue ───────────┘    │                  │ released ──forget──► forgotten
 *               └──────────────── recompute ──────────────┼──────────────────┴──┘                      ▲
 *                                                         │ err                                        │
 *   waiting | queued | processing ──fail────► erred ◄─────┘                                            │
 *   waiting | queued | processing ──cancel──► cancelled                                                │
 *   waiting | queued | processing ──stop────► released (nobody wants it any more)                      │
 *   erred | cancelled | released ──forget──────────────────────────────────────────────────────────────┘
 * ```
 *
 * - `waiting`: some dependency is not in memory yet.
 * - `queued`: ready, in the coordinator's priority queue. A queued task no connected worker could
 *   ever run is Dask's "no-worker"; here that is a property of its queue group, so a worker joining
 *   or leaving costs O(groups), not O(tasks).
 * - `processing`: assigned to a worker (running, or waiting there for a free process).
 * - `memory`: finished; the result stays on the worker(s) in `whoHas`. Data a client scattered
 *   enters it straight from `waiting` (`scatter`); having no lineage, it goes to `erred` when its
 *   last copy is lost (`lose`).
 * - `released`: no data and nobody wants it, but kept as lineage because a dependent may need it
 *   recomputed (its dependents are not all forgotten yet).
 * - `erred`, `cancelled`: terminal until the client releases the key.
 */
export const TaskState = {
  WAITING: 'waiting',
  QUEUED: 'queued',
  PROCESSING: 'processing',
  MEMORY: 'memory',
  ERRED: 'erred',
  CANCELLED: 'cancelled',
  RELEASED: 'released',
  FORGOTTEN: 'forgotten',
} as const
export type TaskState = (typeof TaskState)[keyof typeof TaskState]

const { WAITING, QUEUED, PROCESSING, MEMORY, ERRED, CANCELLED, RELEASED, FORGOTTEN } = TaskState
const ACTIVE = [WAITING, QUEUED, PROCESSING] as const

/** Every legal move of a task: name → allowed sources and the target. */
export const TASK_TRANSITIONS = {
  /** All dependencies are in memory: into the coordinator's queue. */
  ready: { from: [WAITING], to: QUEUED },
  /** A data-heavy dependent goes straight to the worker near its inputs. */
  place: { from: [WAITING], to: PROCESSING },
  /** A worker takes the task from the queue. */
  assign: { from: [QUEUED], to: PROCESSING },
  /** The worker reported a result; it stays there. */
  finish: { from: [PROCESSING], to: MEMORY },
  /** A client put the value on a worker (`scatter`): in memory from the start. */
  scatter: { from: [WAITING], to: MEMORY },
  /** Scattered data lost with its only worker: it cannot be computed again. */
  lose: { from: [MEMORY], to: ERRED },
  /** Its worker died or dropped it, or it failed with retries left: run it again. */
  requeue: { from: [PROCESSING], to: WAITING },
  /** A dependency's data was lost while the task sat in the queue. */
  'lose-input': { from: [QUEUED], to: WAITING },
  /** The function threw and no retries are left. */
  err: { from: [PROCESSING], to: ERRED },
  /** The scheduler gives up: killed-worker, dependency or no-worker. */
  fail: { from: ACTIVE, to: ERRED },
  /** The client cancelled it. */
  cancel: { from: ACTIVE, to: CANCELLED },
  /** Nobody wants it any more (released, and no dependent needs it). */
  stop: { from: ACTIVE, to: RELEASED },
  /** Nobody needs its data any more: the workers drop it; the record stays as lineage. */
  'drop-data': { from: [MEMORY], to: RELEASED },
  /** Its data was lost (or dropped) but someone needs it: compute it again. */
  recompute: { from: [MEMORY, RELEASED], to: WAITING },
  /** Nobody refers to it, directly or through a dependent: delete the record. */
  forget: { from: [ERRED, CANCELLED, RELEASED], to: FORGOTTEN },
} as const satisfies Record<string, { from: readonly TaskState[]; to: TaskState }>

export type TaskTransition = keyof typeof TASK_TRANSITIONS

/**
 * Worker states.
 *
 * ```text
 *   addWorker ──► running ──pause──► paused
 *                    ▲                  │
 *                    └─────resume───────┘
 *   running | paused ──remove──► gone   (lost or left: its tasks go back to the queue)
 * ```
 *
 * A paused worker keeps its tasks and data, gets no new tasks, and may be stolen from.
 */
export const WorkerRecordState = {
  RUNNING: 'running',
  PAUSED: 'paused',
  GONE: 'gone',
} as const
export type WorkerRecordState = (typeof WorkerRecordState)[keyof typeof WorkerRecordState]

export function isActive(state: TaskState): boolean {
  return state === WAITING || state === QUEUED || state === PROCESSING
}
