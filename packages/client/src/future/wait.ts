import { InvalidOptionError } from '@clusterpool/protocol'
import type { Future } from './future.js'
import { checkedFutureList } from './future-list.js'
import { timerDelay } from './timer.js'
import { removeDoneCallback, settledState } from './internal.js'

/** `wait` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = 'FIRST_COMPLETED'
/**
 * `wait` returns when any future finishes by failing (a cancelled future is not a failure); if none
 * fails, this is the same as `ALL_COMPLETED`.
 */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION'
/** `wait` returns when every future is finished or cancelled. */
export const ALL_COMPLETED = 'ALL_COMPLETED'

/** When {@link wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED

/** Options of {@link wait}. */
export interface WaitOptions {
  /**
   * The longest time to wait, in milliseconds from the call. When it runs out, `wait` resolves with
   * the partition as it stands (it never rejects on timeout). Default: no limit. `0` looks once.
   */
  timeoutMs?: number
  /** When to return: `FIRST_COMPLETED`, `FIRST_EXCEPTION` or `ALL_COMPLETED`. Default `ALL_COMPLETED`. */
  returnWhen?: ReturnWhen
}

/** The futures split by whether they were done (finished or cancelled) when `wait` returned. */
export interface WaitResult<T> {
  done: Set<Future<T>>
  notDone: Set<Future<T>>
}

/**
 * Waits for `futures` (duplicates count once) until `options.returnWhen` holds or `options.timeoutMs`
 * passes, then resolves with the futures that are done and those that are not, as Python's
 * `concurrent.futures.wait`. Returns at once if the condition already holds. Cancelled futures count
 * as done; for `FIRST_EXCEPTION` they do not count as failures. Removes its callbacks and timer on
 * return.
 *
 * Rejects only with `InvalidOptionError`, for an invalid option.
 */
export function wait<T>(
  futures: Iterable<Future<T>>,
  options: WaitOptions = {},
): Promise<WaitResult<T>> {
  let delayMs: number | undefined
  let returnWhen: ReturnWhen
  try {
    delayMs = timerDelay(options.timeoutMs, 'options.timeoutMs')
    returnWhen = checkReturnWhen(options.returnWhen)
  } catch (error) {
    const invalid = error as InvalidOptionError
    return Promise.reject(invalid)
  }
  const list = checkedFutureList(futures, 'wait')
  if (list instanceof TypeError) return Promise.reject(list)

  const all = new Set(list)
  const notDone: Future<T>[] = []
  let failed = false
  for (const future of all) {
    if (!future.done()) notDone.push(future)
    else if (settledState(future) === 'rejected') failed = true
  }
  if (delayMs === 0 || holds(returnWhen, all.size - notDone.length, failed, notDone.length)) {
    return Promise.resolve(partition(all, notDone))
  }

  return new Promise<WaitResult<T>>((resolve) => {
    let remaining = notDone.length
    let timer: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      for (const future of notDone) removeDoneCallback(future, onDone)
      resolve(partition(all, notDone))
    }
    const onDone = (future: Future<T>): void => {
      remaining--
      const failed = settledState(future) === 'rejected'
      if (holds(returnWhen, 1, failed, remaining)) finish()
    }
    for (const future of notDone) future.addDoneCallback(onDone)
    if (delayMs !== undefined) timer = setTimeout(finish, delayMs)
  })
}

/** Whether `wait` can return, given how many futures are done, whether one failed, how many are not. */
function holds(returnWhen: ReturnWhen, doneCount: number, failed: boolean, notDoneCount: number) {
  if (notDoneCount === 0) return true
  switch (returnWhen) {
    case FIRST_COMPLETED:
      return doneCount > 0
    case FIRST_EXCEPTION:
      return failed
    case ALL_COMPLETED:
      return false
  }
}

/**
 * Splits `all` (which becomes the done set) given the futures that were not done at the call: costs
 * O(not done), so ALL_COMPLETED over a million futures copies nothing.
 */
function partition<T>(all: Set<Future<T>>, notDoneAtCall: readonly Future<T>[]): WaitResult<T> {
  const notDone = new Set<Future<T>>()
  for (const future of notDoneAtCall) {
    if (!future.done()) {
      notDone.add(future)
      all.delete(future)
    }
  }
  return { done: all, notDone }
}

function checkReturnWhen(value: ReturnWhen | undefined): ReturnWhen {
  if (value === undefined) return ALL_COMPLETED
  if (value === FIRST_COMPLETED || value === FIRST_EXCEPTION || value === ALL_COMPLETED)
    return value
  throw new InvalidOptionError(
    `options.returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${String(value)}`,
  )
}
