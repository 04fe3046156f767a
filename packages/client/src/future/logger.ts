// Where a Future reports errors that no caller can receive (a throwing done callback).
/** How errors thrown by done callbacks and abort handlers are reported. */
export type FutureErrorLogger = (message: string, error: unknown) => void

const defaultLogger: FutureErrorLogger = (message, error) => {
  console.error(message, error)
}
let current: FutureErrorLogger = defaultLogger

/** Reports an error thrown by a done callback or a handler. */
export function logError(message: string, error: unknown): void {
  current(message, error)
}

/** Replaces the logger (`undefined` restores `console.error`); returns the previous one. */
export function setFutureErrorLogger(logger: FutureErrorLogger | undefined): FutureErrorLogger {
  const previous = current
  current = logger ?? defaultLogger
  return previous
}
