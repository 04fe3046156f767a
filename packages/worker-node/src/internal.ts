export { FrameReader, FrameTooLargeError, encodeFrame } from './pool/framing.js'
export { ToChildKind, ToParentKind, parseToChild, parseToParent } from './pool/messages.js'
export {
  createBatchEncoder,
  createChildBatchDecoder,
  createParentBatchDecoder,
} from './pool/batch-codec.js'
export { DispatchLimits, canAccept, shouldReclaim } from './pool/runtime/dispatch.js'
export { TaskQueue } from './pool/runtime/task-queue.js'
export { kPoolInternals } from './pool/runtime/task-pool.js'
export { resolvePoolOptions } from './pool/options.js'

export type { ToChild, ToParent } from './pool/messages.js'
export type { ChildLoad } from './pool/runtime/dispatch.js'
export type { PoolInternals } from './pool/runtime/task-pool.js'
export type { ResolvedPoolOptions } from './pool/options.js'
