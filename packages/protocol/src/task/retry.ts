import { ErrorCode } from '../errors/codes.js'

/** How a run of a task ended in an error, as far as running it again goes. */
export interface RunFailure {
  /**
   * The error's stable code, when the caller looks at it (`SerializedError.code`).
   * `CP_ERR_ABORTED` and `CP_ERR_CANCELLED` say the run was stopped on purpose. Default: none.
   */
  readonly code?: string | undefined
  /**
   * The caller stopped the run on purpose (its client cancelled the task), so whatever error it
   * ended with comes from the abort. Default false.
   */
  readonly aborted?: boolean
}

/**
 * Whether a task whose run failed runs again: the one retry policy of the local executors and
 * the coordinator's scheduler.
 *
 * A run stopped on purpose (`failure.aborted`, or an abort or cancel code) is never retried.
 * Any other error is (the function threw, the task ran past its `timeoutMs`, the process running
 * it died) while retries are left: `attempt`, 1 for the first run and one more for each retry,
 * is at most `retries`. A worker that leaves the cluster is not this: the scheduler moves its
 * tasks elsewhere without spending a retry.
 * @param retries the task's `retries` option; `undefined` is 0 (run once).
 * @param attempt the run that failed: 1 for the first.
 */
export function shouldRetry(
  retries: number | undefined,
  attempt: number,
  failure: RunFailure,
): boolean {
  if (failure.aborted === true || isStopCode(failure.code)) return false
  return attempt <= (retries ?? 0)
}

function isStopCode(code: string | undefined): boolean {
  return code === ErrorCode.ABORTED || code === ErrorCode.CANCELLED
}
