import test from 'ava'

import { InvalidStateError, nextState, type Transitions } from '../src/index.js'

type S = 'idle' | 'busy' | 'done'

const T = {
  start: { from: ['idle'], to: 'busy' },
  stop: { from: ['idle', 'busy'], to: 'done' },
} as const satisfies Transitions<S>

test('nextState follows the table', (t) => {
  t.is(nextState<S, typeof T>(T, 'start', 'idle', 'machine:'), 'busy')
  t.is(nextState<S, typeof T>(T, 'stop', 'busy', 'machine:'), 'done')
  t.is(nextState<S, typeof T>(T, 'stop', 'idle', 'machine:'), 'done')
})

test('an illegal move throws InvalidStateError naming the machine, subject, move and state', (t) => {
  t.throws(() => nextState<S, typeof T>(T, 'start', 'busy', 'pool:'), {
    instanceOf: InvalidStateError,
    message: 'pool: cannot start from busy',
  })
  t.throws(() => nextState<S, typeof T>(T, 'stop', 'done', 'scheduler: task', 'c1:7'), {
    instanceOf: InvalidStateError,
    message: 'scheduler: task c1:7 cannot stop from done',
  })
})
