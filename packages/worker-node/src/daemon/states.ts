/**
 * A task's states on a worker daemon and the named transitions between them.
 *
 * ```text
 *   assign ──► queued ──start──► running ──abort──► cancelling
 *                │  │               │                   │
 *                │  └───────────────┴───────finish──────┴──► done       (its result or error sent)
 *                │
 *                └──drop──► released ◄──lose── queued | running | cancelling
 * ```
 *
 * - `queued`: handed to the pool, not yet to a process. Only these can be stolen, returned at a
 *   drain, or cancelled without running.
 * - `running`: the pool handed it to a process (it may still wait there behind another task, or
 *   have been given back to the pool's queue; either way it counts as started and is not stolen).
 * - `cancelling`: the coordinator cancelled it while running; its abort signal fired and it
 *   reports however it ends.
 * - `done`: its result or error went to the coordinator (`finish` from `queued` only when the pool
 *   failed it before it started: a forced close).
 * - `released`: dropped without a report of its own: stolen, returned, or cancelled before it
 *   started (the daemon reports that one as aborted, unless it was an orphan nobody claimed).
 *
 * A lost coordinator changes no task's state: queued and running tasks go on as orphans (see
 * `WorkerState`), their reports kept in the `ReportLog` until a restarted coordinator assigns
 * their keys again. (`lose` is kept for a daemon that must give its tasks up.)
 *
 * `done` and `released` are terminal: the record is deleted right after.
 */
export const WorkerTaskState = {
  QUEUED: 'queued',
  RUNNING: 'running',
  CANCELLING: 'cancelling',
  DONE: 'done',
  RELEASED: 'released',
} as const
export type WorkerTaskState = (typeof WorkerTaskState)[keyof typeof WorkerTaskState]

const { QUEUED, RUNNING, CANCELLING, DONE, RELEASED } = WorkerTaskState

/** Every legal move of a task: name → allowed sources and the target. */
export const WORKER_TASK_TRANSITIONS = {
  /** The pool handed it to a process. */
  start: { from: [QUEUED], to: RUNNING },
  /** Cancelled while running: its abort signal fires. */
  abort: { from: [RUNNING], to: CANCELLING },
  /** It ended (result or error) and the coordinator is told. */
  finish: { from: [QUEUED, RUNNING, CANCELLING], to: DONE },
  /** Taken out of the pool's queue before it started (steal, cancel, drain). */
  drop: { from: [QUEUED], to: RELEASED },
  /** The coordinator is gone; it reschedules the task elsewhere. */
  lose: { from: [QUEUED, RUNNING, CANCELLING], to: RELEASED },
} as const satisfies Record<string, { from: readonly WorkerTaskState[]; to: WorkerTaskState }>

export type WorkerTaskTransition = keyof typeof WORKER_TASK_TRANSITIONS

/**
 * A worker daemon's life:
 *
 * ```text
 *  connecting ──connect──▶ running ──lose──▶ reconnecting ──connect──▶ running
 *      │                     │ │                  │
 *      │                     │ └──drain──▶ draining ──stop (tasks done, or shutdown)──▶ stopped
 *      │                     └──stop (shutdown)──────────────────────────────────────▶ stopped
 *      │ connecting | reconnecting ──drain──▶ draining
 *      └──refuse (token, version)──▶ failed (exit 1)      also from reconnecting and draining
 * ```
 *
 * `stopped` and `failed` are terminal. In `reconnecting` the tasks run on and the held values stay;
 * the next `hello` carries their inventory (`WorkerState.inventory`).
 */
export const DaemonState = {
  CONNECTING: 'connecting',
  RUNNING: 'running',
  RECONNECTING: 'reconnecting',
  DRAINING: 'draining',
  STOPPED: 'stopped',
  FAILED: 'failed',
} as const
export type DaemonState = (typeof DaemonState)[keyof typeof DaemonState]

const { CONNECTING, RECONNECTING, DRAINING, STOPPED, FAILED } = DaemonState

/** Every legal move of the daemon: name → allowed sources and the target. */
export const DAEMON_TRANSITIONS = {
  /** The coordinator's welcome. */
  connect: { from: [CONNECTING, RECONNECTING], to: DaemonState.RUNNING },
  /** The connection closed (or went silent) while serving. */
  lose: { from: [DaemonState.RUNNING], to: RECONNECTING },
  /** SIGTERM/SIGINT: hand back what waits, finish what runs. */
  drain: { from: [CONNECTING, DaemonState.RUNNING, RECONNECTING], to: DRAINING },
  /** The drain finished, or the coordinator sent `shutdown`. */
  stop: { from: [DaemonState.RUNNING, DRAINING], to: STOPPED },
  /** The coordinator refused this worker (wrong token, other protocol version). */
  refuse: { from: [CONNECTING, RECONNECTING, DRAINING], to: FAILED },
} as const satisfies Record<string, { from: readonly DaemonState[]; to: DaemonState }>

export type DaemonTransition = keyof typeof DAEMON_TRANSITIONS
