// The pool's parts, for this package's own unit tests; not exported by the package.
export { FrameReader, FrameTooLargeError, encodeFrame } from './framing.js'
export { ToChildKind, ToParentKind, parseToChild, parseToParent } from './messages.js'
export {
  createBatchEncoder,
  createChildBatchDecoder,
  createParentBatchDecoder,
} from './batch-codec.js'
export { DispatchLimits, canAccept, shouldReclaim } from './runtime/dispatch.js'
export { TaskQueue } from './runtime/task-queue.js'
export { kPoolInternals } from './runtime/task-pool.js'

export type { ToChild, ToParent } from './messages.js'
export type { ChildLoad } from './runtime/dispatch.js'
export type { PoolInternals } from './runtime/task-pool.js'
export { resolvePoolOptions } from './options.js'
