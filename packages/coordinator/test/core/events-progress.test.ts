// What observers see of the core: typed events, per-function progress and totals.
import test from 'ava'

import type { TaskEndEvent } from '../../src/core/events.js'
import { failure, result, task, testCore } from './harness.js'

test('change: after every handled batch, for as long as the listener is on', (t) => {
  const h = testCore()
  let changes = 0
  const onChange = (): void => void changes++
  t.false(h.core.events.listening('change'))
  h.core.events.on('change', onChange)
  t.true(h.core.events.listening('change'))
  const c = h.client()
  t.is(changes, 1, 'a client joined')
  c.send({ kind: 'ping', seq: 1 })
  t.is(changes, 2)
  h.worker('w1')
  t.is(changes, 3)
  h.core.tick()
  t.is(changes, 4)
  h.core.events.off('change', onChange)
  t.false(h.core.events.listening('change'))
  c.send({ kind: 'ping', seq: 2 })
  t.is(changes, 4)
})

test('taskEnd: one event per task end on a worker, only while someone listens', (t) => {
  const h = testCore()
  const w = h.worker('w1', { procs: 4 })
  const c = h.client()
  const ends: TaskEndEvent[] = []
  const onEnd = (e: TaskEndEvent): void => void ends.push(e)
  c.send({ kind: 'submit', tasks: [task(1), task(2), task(3)] })
  w.send(result('c1:1', new Uint8Array([1])))
  t.is(ends.length, 0)
  h.core.events.on('taskEnd', onEnd)
  w.send(result('c1:2', new Uint8Array([1])))
  w.send(failure('c1:3', 'nope', 'RangeError'))
  t.deepEqual(
    ends.map((e) => ({ fn: e.fn, workerId: e.workerId, ok: e.ok, error: e.error })),
    [
      { fn: 'tasks.js#f', workerId: 'w1', ok: true, error: undefined },
      {
        fn: 'tasks.js#f',
        workerId: 'w1',
        ok: false,
        error: { name: 'RangeError', message: 'nope' },
      },
    ],
  )
  t.is(ends[0]!.endMs - ends[0]!.startMs, 5, 'starts the reported duration before its end')
  t.is(ends[1]!.endMs - ends[1]!.startMs, 3)
  h.core.events.off('taskEnd', onEnd)
  t.false(h.core.events.listening('taskEnd'))
})

test('a listener removed while the core emits still gets that event, and no later one', (t) => {
  const h = testCore()
  const calls: string[] = []
  const second = (): void => void calls.push('second')
  const first = (): void => {
    calls.push('first')
    h.core.events.off('change', second)
  }
  h.core.events.on('change', first)
  h.core.events.on('change', second)
  h.client()
  h.client()
  t.deepEqual(calls, ['first', 'second', 'first'])
})

test('progress: a task dropped while pending leaves the pending column when it is forgotten', (t) => {
  const h = testCore()
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1), task(2)] })
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 2, running: 0, done: 0, erred: 0 })
  c.send({ kind: 'release', ids: [1] })
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 1, running: 0, done: 0, erred: 0 })
})

test('progress: a task released while it runs counts as running until it ends, then as done', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1), task(2, { deps: [1] })] })
  c.send({ kind: 'release', ids: [1] })
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 1, running: 1, done: 0, erred: 0 })
  c.link.take()
  w.send(result('c1:1', new Uint8Array([1])))
  t.deepEqual(c.link.take(), [{ kind: 'running', ids: [2] }], 'no result for a released task')
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 1, done: 1, erred: 0 })
  t.like(h.core.totals, { submitted: 2, finished: 1 })
})
