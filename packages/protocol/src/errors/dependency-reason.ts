/**
 * Why a failed dependency failed, for its dependents' `DependencyError`: its own message, or,
 * when it is a `DependencyError` itself (`dependency X failed: <reason>`), the reason it
 * carries already, so that a chain of N dependents does not spell out N nested messages (the
 * `cause` chain keeps every link). Takes an Error or a `SerializedError`.
 */
export function dependencyReason(error: {
  readonly name: string
  readonly message: string
}): string {
  if (error.name !== 'DependencyError') return error.message
  const at = error.message.indexOf(FAILED)
  return at < 0 ? error.message : error.message.slice(at + FAILED.length)
}

const FAILED = 'failed: '
