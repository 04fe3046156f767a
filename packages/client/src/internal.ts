// Executor-facing hooks, for clusterpool's own packages and tests; not part of the public API.
export {
  doneCallbackCount,
  hasDoneCallback,
  isFuture,
  peek,
  removeDoneCallback,
  setAbortHandler,
  setDemandHandler,
  setFutureErrorLogger,
  settledState,
} from './future/internal.js'
export { replaceFutures } from './executor/future-args.js'
