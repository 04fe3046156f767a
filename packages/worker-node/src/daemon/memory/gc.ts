import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A full garbage collection, when the runtime lets us ask for one. Spilling drops a value's
 * last reference, but its bytes (outside the JS heap) go back to the system only when V8
 * collects the buffer; after a spill the daemon asks for that at once, rather than holding RSS
 * it has already written to disk.
 */
export const collectGarbage: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return exposed
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    if (typeof gc === 'function') return gc as () => void
  } catch {
    // Not allowed here: V8 collects in its own time.
  }
  return () => {}
})()
