// The pool's parts, for this package's own unit tests; not exported by the package.
export { FrameReader, FrameTooLargeError, encodePipeFrame } from './framing.js'
export { ToChildKind, ToParentKind, parseToChild, parseToParent } from './messages.js'
export {
  createBatchEncoder,
  createChildBatchDecoder,
  createParentBatchDecoder,
} from './batch-codec.js'
export { DispatchLimits, canAccept, shouldReclaim } from './runtime/dispatch.js'
export { PoolQueue } from './runtime/pool-queue.js'
export {
  RSS_GROWTH_BYTES_PER_MS,
  RSS_GUARD_INTERVAL_MS,
  SHARE_REREAD_MS,
  formatShares,
  guardWaitMs,
  shareOf,
} from './entry/memory-guard.js'
export { kPoolInternals } from './runtime/pool-internals.js'
export { POOL_TRANSITIONS, PoolState } from './runtime/pool-state.js'

export type { ToChild, ToParent } from './messages.js'
export type { ChildLoad } from './runtime/dispatch.js'
export type { PoolInternals } from './runtime/pool-internals.js'
export { resolvePoolOptions } from './options.js'
