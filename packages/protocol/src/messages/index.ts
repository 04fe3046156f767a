// The wire protocol's public API; re-exported by the package's index.
export { PROTOCOL_VERSION } from '../version.js'
export {
  ClientToCoordinatorKind,
  CoordinatorToClientKind,
  CoordinatorToWorkerKind,
  Direction,
  LAZY_KINDS,
  MERGED_BACK_KIND,
  Role,
  WorkerToCoordinatorKind,
} from './kinds.js'
export { refusalError } from './common.js'
export {
  FRAME_ENVELOPE_BYTES,
  decodeFrame,
  decodeHello,
  encodeFrame,
  frameTooLarge,
} from './frame.js'
export {
  DEP_REF_EXTENSION_TYPE,
  DepRef,
  collectDeps,
  depRef,
  isDepRef,
  substituteDeps,
} from './dep-ref.js'
export { CloseCode, MAX_CLOSE_REASON_BYTES, closeError, closeReason } from './close-codes.js'
export { MessageLimits } from './limits.js'

export type { Refuse, Versions, WireFnRef, WireSourceFnRef } from './common.js'
export type {
  Cancel,
  Cancelled,
  ClientHello,
  ClientResume,
  ClientToCoordinator,
  ClientWelcome,
  ClusterSize,
  CoordinatorInfo,
  CoordinatorToClient,
  ErrorItem,
  Errors,
  Gather,
  Ping,
  Pong,
  Await,
  Release,
  ResultItem,
  Results,
  Running,
  Scatter,
  ScatterItem,
  Submit,
  SubmitTask,
} from './client.js'
export type {
  Assign,
  AssignDep,
  AssignTask,
  CancelKeys,
  CoordinatorToWorker,
  Data,
  DataItem,
  Fetch,
  Store,
  Heartbeat,
  HeartbeatMemory,
  MemoryPause,
  DataLost,
  HeldItem,
  Leaving,
  Nested,
  NestedItem,
  Rejoined,
  ReleaseKeys,
  Seceded,
  Shutdown,
  Steal,
  StealReply,
  WorkerErrorItem,
  WorkerErrors,
  WorkerHello,
  WorkerInventory,
  WorkerResultItem,
  WorkerResults,
  WorkerToCoordinator,
  WorkerWelcome,
} from './worker.js'
export type {
  DecodedFrame,
  DecodedHello,
  FrameError,
  Message,
  MessagesByDirection,
} from './frame.js'
