// checkMs is every package's millisecond validator: each row is a value, a range as one of the
// callers uses it, and what comes out (the value, or the whole message of the error thrown).
import test from 'ava'

import { ErrorCode } from '../src/errors/codes.js'
import { InvalidOptionError } from '../src/errors/errors.js'
import { MAX_TIMER_MS, checkMs, type MsRange } from '../src/validate.js'

const POSITIVE: MsRange = {}
const POSITIVE_OR_INFINITY: MsRange = { allowInfinity: true }
const TIMER: MsRange = { allowUndefined: true, max: MAX_TIMER_MS }
const WAIT: MsRange = {
  allowZero: true,
  allowUndefined: true,
  allowInfinity: true,
  undefinedMeans: 'to wait forever',
}

const OK: [unknown, MsRange, number | undefined][] = [
  [1, POSITIVE, 1],
  [0.5, POSITIVE, 0.5],
  [Infinity, POSITIVE_OR_INFINITY, Infinity],
  [undefined, TIMER, undefined],
  [MAX_TIMER_MS, TIMER, MAX_TIMER_MS],
  [0, WAIT, 0],
  [undefined, WAIT, undefined],
  [Infinity, WAIT, Infinity],
  [MAX_TIMER_MS + 1, WAIT, MAX_TIMER_MS + 1],
]

test('values in the range come back unchanged', (t) => {
  for (const [value, range, expected] of OK) {
    t.is(checkMs(value, 'x', range), expected, `${String(value)} in ${JSON.stringify(range)}`)
  }
})

const BAD: [unknown, MsRange, string][] = [
  [0, POSITIVE, 'opt must be a positive number of milliseconds, got 0'],
  [-5, POSITIVE, 'opt must be a positive number of milliseconds, got -5'],
  [NaN, POSITIVE, 'opt must be a positive number of milliseconds, got NaN'],
  [Infinity, POSITIVE, 'opt must be a positive number of milliseconds, got Infinity'],
  [undefined, POSITIVE, 'opt must be a positive number of milliseconds, got undefined'],
  [null, POSITIVE, 'opt must be a positive number of milliseconds, got null'],
  ['5', POSITIVE, 'opt must be a positive number of milliseconds, got "5"'],
  [{ ms: 5 }, POSITIVE, 'opt must be a positive number of milliseconds, got an object'],
  [() => 5, POSITIVE, 'opt must be a positive number of milliseconds, got a function'],
  [10n, POSITIVE, 'opt must be a positive number of milliseconds, got 10n'],
  [-Infinity, POSITIVE_OR_INFINITY, 'opt must be a positive number of milliseconds, got -Infinity'],
  [0, TIMER, 'opt must be a positive number of milliseconds, got 0'],
  [Infinity, TIMER, 'opt must be a positive number of milliseconds, got Infinity'],
  [MAX_TIMER_MS + 1, TIMER, `opt must be at most ${MAX_TIMER_MS} milliseconds, got 2147483648`],
  [
    -1,
    WAIT,
    'opt must be a non-negative number of milliseconds (or undefined to wait forever), got -1',
  ],
  [
    NaN,
    WAIT,
    'opt must be a non-negative number of milliseconds (or undefined to wait forever), got NaN',
  ],
  [-1, { allowZero: true }, 'opt must be a non-negative number of milliseconds, got -1'],
]

test('values out of the range throw InvalidOptionError naming the option and the unit', (t) => {
  for (const [value, range, message] of BAD) {
    const error = t.throws(() => checkMs(value, 'opt', range), { instanceOf: InvalidOptionError })
    t.is(error.message, message)
    t.is(error.code, ErrorCode.INVALID_OPTION)
  }
})

test('the name leads the message, so a caller can split the path from the problem', (t) => {
  const error = t.throws(() => checkMs(-1, 'tasks[0].opts.timeoutMs'))
  t.true(error.message.startsWith('tasks[0].opts.timeoutMs must be '))
})
