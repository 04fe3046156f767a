/**
 * Runs a callback of the pool's user (`PoolEvents`); an exception it throws surfaces
 * asynchronously, as an uncaught error, never inside the pool's own bookkeeping.
 */
export function emitSafely(callback: () => void): void {
  try {
    callback()
  } catch (error) {
    rethrowLater(error)
  }
}

/**
 * Throws `error` from a microtask of its own. The pool's hot paths (a task's start and result)
 * call the user's callback in a `try` of their own and pass what it threw here, rather than
 * make a closure per task for `emitSafely`.
 */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error
  })
}
