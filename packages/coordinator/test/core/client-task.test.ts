import { ErrorCode, InvalidStateError, type CoordinatorToClient } from '@clusterpool/protocol'
import test from 'ava'

import {
  CLIENT_TASK_TRANSITIONS,
  ClientTask,
  ClientTaskState,
  VALUE_TRANSITIONS,
  ValueState,
  progressColumn,
  type ClientTaskTransition,
  type ValueTransition,
} from '../../src/core/client-task.js'
import { ClientSession } from '../../src/core/sessions.js'
import { ARGS, F, Recorder } from './harness.js'

const session = new ClientSession('c1', 'c1', 'test', new Recorder<CoordinatorToClient>())

function fresh(): ClientTask {
  const progress = { pending: 1, running: 0, done: 0, erred: 0 }
  return new ClientTask('c1:1', session, 1, F, ARGS, undefined, undefined, false, progress)
}

/** A legal path from a new task to each lifecycle state. */
const PATH: Record<ClientTaskState, readonly ClientTaskTransition[]> = {
  pending: [],
  running: ['announce'],
  aborting: ['announce', 'abort'],
  settled: ['settle'],
  regathering: ['settle', 'regather'],
  dropped: ['drop'],
  'dropped-running': ['announce', 'drop-running'],
  'dropped-aborting': ['announce', 'abort', 'drop-aborting'],
}

/** A legal path from a new task to each value state, with the bytes `arrive` takes. */
const VALUE_PATH: Record<ValueState, readonly ValueTransition[]> = {
  none: [],
  arriving: ['arrive'],
  inline: ['arrive', 'accept'],
  held: ['hold'],
}

function moveValue(t: ClientTask, name: ValueTransition): void {
  switch (name) {
    case 'arrive':
      t.arrive(new Uint8Array([1, 2, 3]))
      return
    case 'hold':
      t.hold()
      return
    case 'accept':
      t.accept()
      return
    case 'store':
      t.store()
      return
  }
}

function inState(state: ClientTaskState): ClientTask {
  const t = fresh()
  for (const name of PATH[state]) t.to(name)
  return t
}

function withValue(state: ValueState): ClientTask {
  const t = fresh()
  for (const name of VALUE_PATH[state]) moveValue(t, name)
  return t
}

test('the paths reach every lifecycle and value state', (t) => {
  for (const state of Object.values(ClientTaskState)) t.is(inState(state).state, state)
  for (const state of Object.values(ValueState)) t.is(withValue(state).valueState, state)
})

test('every lifecycle transition: legal from its sources only; illegal ones throw CP_ERR_INVALID_STATE', (t) => {
  let legal = 0
  let illegal = 0
  for (const [name, rule] of Object.entries(CLIENT_TASK_TRANSITIONS) as [
    ClientTaskTransition,
    (typeof CLIENT_TASK_TRANSITIONS)[ClientTaskTransition],
  ][]) {
    for (const from of Object.values(ClientTaskState)) {
      const task = inState(from)
      if ((rule.from as readonly ClientTaskState[]).includes(from)) {
        task.to(name)
        t.is(task.state, rule.to, `${name} from ${from}`)
        legal++
      } else {
        const error = t.throws(() => task.to(name), { instanceOf: InvalidStateError })
        t.is(error?.code, ErrorCode.INVALID_STATE)
        t.is(error?.message, `coordinator: task c1:1 cannot ${name} from ${from}`)
        t.is(task.state, from, `a refused ${name} leaves ${from} as it was`)
        illegal++
      }
    }
  }
  t.is(legal, 13)
  t.is(illegal, 7 * 8 - 13)
})

test('every value transition: legal from its sources only; illegal ones throw', (t) => {
  for (const [name, rule] of Object.entries(VALUE_TRANSITIONS) as [
    ValueTransition,
    (typeof VALUE_TRANSITIONS)[ValueTransition],
  ][]) {
    for (const from of Object.values(ValueState)) {
      const task = withValue(from)
      if ((rule.from as readonly ValueState[]).includes(from)) {
        moveValue(task, name)
        t.is(task.valueState, rule.to, `${name} from ${from}`)
      } else {
        const error = t.throws(() => moveValue(task, name), { instanceOf: InvalidStateError })
        t.is(error?.message, `coordinator: value of c1:1 cannot ${name} from ${from}`)
        t.is(task.valueState, from)
      }
    }
  }
})

test('drop() takes the drop transition of the state, and does nothing once ended or dropped', (t) => {
  const expected: Record<ClientTaskState, ClientTaskState | undefined> = {
    pending: 'dropped',
    running: 'dropped-running',
    aborting: 'dropped-aborting',
    settled: undefined,
    regathering: undefined,
    dropped: undefined,
    'dropped-running': undefined,
    'dropped-aborting': undefined,
  }
  for (const state of Object.values(ClientTaskState)) {
    const task = inState(state)
    const to = expected[state]
    t.is(task.drop(), to !== undefined, state)
    t.is(task.state, to ?? state, state)
  }
})

test('progress column, awaited and aborting per state', (t) => {
  const rows: [ClientTaskState, 'pending' | 'running' | undefined, boolean, boolean][] = [
    ['pending', 'pending', true, false],
    ['running', 'running', true, false],
    ['aborting', 'running', true, true],
    ['settled', undefined, false, false],
    ['regathering', undefined, false, false],
    ['dropped', 'pending', false, false],
    ['dropped-running', 'running', false, false],
    ['dropped-aborting', 'running', false, true],
  ]
  t.is(rows.length, Object.values(ClientTaskState).length)
  for (const [state, column, awaited, aborting] of rows) {
    t.is(progressColumn(state), column, state)
    const task = inState(state)
    t.is(task.awaited, awaited, state)
    t.is(task.aborting, aborting, state)
  }
})

test('an arriving value is not the value until accepted, then it is a copy out of the frame', (t) => {
  const frame = new Uint8Array(64 * 1024).fill(9) // a whole decoded frame
  frame.set([7, 8], 2)
  const task = fresh()
  task.arrive(frame.subarray(2, 4))
  t.is(task.value, undefined, 'not offered to dependents before the scheduler accepts it')
  task.accept()
  t.deepEqual([...task.value!], [7, 8])
  t.not(task.value?.buffer, frame.buffer, 'copied: the value does not pin the frame')
  frame.fill(0)
  t.deepEqual([...task.value!], [7, 8])
  t.throws(() => task.hold(), { instanceOf: InvalidStateError }, 'an inline value stays')
})

test('scattered data starts inline, counts in no progress, and is held once stored', (t) => {
  const bytes = new Uint8Array([1, 2])
  const data = ClientTask.scattered('c1:7', session, 7, bytes)
  t.true(data.scattered)
  t.false(fresh().scattered)
  t.is(data.progress, undefined)
  t.is(data.state, 'pending')
  t.is(data.valueState, 'inline')
  t.is(data.value, bytes)
  t.is(data.store(), bytes)
  t.is(data.valueState, 'held')
  t.is(data.value, undefined)
})
