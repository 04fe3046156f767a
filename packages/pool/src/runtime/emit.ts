/**
 * Runs a callback of the pool's user (`PoolEvents`); an exception it throws surfaces
 * asynchronously, as an uncaught error, never inside the pool's own bookkeeping.
 */
export function emitSafely(callback: () => void): void {
  try {
    callback()
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}
