/**
 * Message kinds, one table per direction. A message is a plain object whose `kind` field holds
 * one of these strings; the same name may mean different things in different directions
 * (`results` from a worker carries task keys, `results` to a client carries client ids).
 */

/** Which way a frame travels; `decodeFrame` accepts only the kinds of its direction. */
export const Direction = {
  CLIENT_TO_COORDINATOR: 'client->coordinator',
  COORDINATOR_TO_CLIENT: 'coordinator->client',
  WORKER_TO_COORDINATOR: 'worker->coordinator',
  COORDINATOR_TO_WORKER: 'coordinator->worker',
} as const
export type Direction = (typeof Direction)[keyof typeof Direction]

/** The `role` a peer announces in its `hello`. */
export const Role = {
  CLIENT: 'client',
  WORKER: 'worker',
} as const
export type Role = (typeof Role)[keyof typeof Role]

/** What a client sends to the coordinator. */
export const ClientToCoordinatorKind = {
  HELLO: 'hello',
  SUBMIT: 'submit',
  CANCEL: 'cancel',
  RELEASE: 'release',
  GATHER: 'gather',
  SCATTER: 'scatter',
  PING: 'ping',
  AWAIT: 'await',
} as const
export type ClientToCoordinatorKind =
  (typeof ClientToCoordinatorKind)[keyof typeof ClientToCoordinatorKind]

/** What the coordinator sends to a client. */
export const CoordinatorToClientKind = {
  WELCOME: 'welcome',
  REFUSE: 'refuse',
  RUNNING: 'running',
  RESULTS: 'results',
  ERRORS: 'errors',
  CANCELLED: 'cancelled',
  CLUSTER: 'cluster',
  PONG: 'pong',
} as const
export type CoordinatorToClientKind =
  (typeof CoordinatorToClientKind)[keyof typeof CoordinatorToClientKind]

/** What a worker sends to the coordinator. */
export const WorkerToCoordinatorKind = {
  HELLO: 'hello',
  HEARTBEAT: 'heartbeat',
  RESULTS: 'results',
  ERRORS: 'errors',
  STEAL_REPLY: 'stealReply',
  DATA: 'data',
  LEAVING: 'leaving',
  NESTED: 'nested',
  SECEDED: 'seceded',
  REJOINED: 'rejoined',
  MEMORY_PAUSE: 'memoryPause',
  DATA_LOST: 'dataLost',
} as const
export type WorkerToCoordinatorKind =
  (typeof WorkerToCoordinatorKind)[keyof typeof WorkerToCoordinatorKind]

/** What the coordinator sends to a worker. */
export const CoordinatorToWorkerKind = {
  WELCOME: 'welcome',
  REFUSE: 'refuse',
  ASSIGN: 'assign',
  CANCEL: 'cancel',
  STEAL: 'steal',
  FETCH: 'fetch',
  STORE: 'store',
  RELEASE: 'release',
  SHUTDOWN: 'shutdown',
  NESTED: 'nested',
} as const
export type CoordinatorToWorkerKind =
  (typeof CoordinatorToWorkerKind)[keyof typeof CoordinatorToWorkerKind]

/** The kinds of each direction, for lookups by direction. */
export const KINDS_BY_DIRECTION: Readonly<Record<Direction, readonly string[]>> = {
  [Direction.CLIENT_TO_COORDINATOR]: Object.values(ClientToCoordinatorKind),
  [Direction.COORDINATOR_TO_CLIENT]: Object.values(CoordinatorToClientKind),
  [Direction.WORKER_TO_COORDINATOR]: Object.values(WorkerToCoordinatorKind),
  [Direction.COORDINATOR_TO_WORKER]: Object.values(CoordinatorToWorkerKind),
}

/**
 * Kinds nothing waits for, which a transport may hold back to ride with the next urgent message
 * (or a few milliseconds): a task started (the client's future shows it), and a task or value
 * that the peer may drop.
 */
export const LAZY_KINDS: ReadonlySet<string> = new Set<string>([
  CoordinatorToClientKind.RUNNING,
  ClientToCoordinatorKind.RELEASE,
  CoordinatorToWorkerKind.RELEASE,
])

/**
 * The kind whose items a transport may add to the queued message of that kind even when other
 * kinds were queued after it: a task's `running` may move before anything queued after it, since
 * nothing about that task can be queued before it (the coordinator announces a task only while
 * it has not settled). When results and new assignments alternate, a frame to the client then
 * holds one `running` message rather than one per task.
 */
export const MERGED_BACK_KIND: string = CoordinatorToClientKind.RUNNING
