// shouldRetry is the retry policy of the local executors (which see the error's code) and of the
// coordinator's scheduler (which knows whether its client aborted the run): one row per case.
import test from 'ava'

import { ErrorCode } from '../src/errors/codes.js'
import { shouldRetry, type RunFailure } from '../src/task/retry.js'

const THREW: RunFailure = { code: ErrorCode.TASK_FAILED }
const TYPE_ERROR: RunFailure = {} // a built-in error class: no code
const TIMED_OUT: RunFailure = { code: ErrorCode.TASK_TIMEOUT }
const DIED: RunFailure = { code: ErrorCode.WORKER_DIED }
const ABORTED: RunFailure = { code: ErrorCode.ABORTED }
const CANCELLED: RunFailure = { code: ErrorCode.CANCELLED }
const ABORTED_BY_CLIENT: RunFailure = { aborted: true }
const NOT_ABORTED: RunFailure = { aborted: false }

const CASES: [retries: number | undefined, attempt: number, RunFailure, boolean, string][] = [
  [undefined, 1, THREW, false, 'no retries option: run once'],
  [0, 1, THREW, false, 'retries 0: run once'],
  [1, 1, THREW, true, 'first run failed, one retry left'],
  [1, 2, THREW, false, 'the one retry failed too'],
  [3, 3, THREW, true, 'third run failed, one retry left'],
  [3, 4, THREW, false, 'retries used up'],
  [2, 1, TYPE_ERROR, true, 'an error without a code is retried'],
  [2, 1, TIMED_OUT, true, 'a timeout is retried'],
  [2, 1, DIED, true, 'a dead process is retried'],
  [2, 1, ABORTED, false, 'an aborted run is not retried'],
  [2, 1, CANCELLED, false, 'a cancelled run is not retried'],
  [2, 1, ABORTED_BY_CLIENT, false, 'the caller aborted it: not retried'],
  [2, 1, { aborted: true, code: ErrorCode.TASK_FAILED }, false, 'an error after an abort'],
  [2, 1, NOT_ABORTED, true, 'the scheduler, no abort: retried'],
  [2, 3, NOT_ABORTED, false, 'the scheduler, retries used up'],
  [0, 1, ABORTED_BY_CLIENT, false, 'aborted with no retries'],
]

test('retry while retries are left, unless the run was stopped on purpose', (t) => {
  for (const [retries, attempt, failure, expected, why] of CASES) {
    t.is(shouldRetry(retries, attempt, failure), expected, why)
  }
})

test('retries n gives n + 1 runs in all', (t) => {
  for (const retries of [0, 1, 2, 5]) {
    let runs = 1
    while (shouldRetry(retries, runs, THREW)) runs++
    t.is(runs, retries + 1)
  }
})
