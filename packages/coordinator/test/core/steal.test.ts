// Steals through the core: the victim is asked, its reply moves the task, and a cancel that
// comes while the task moves follows it to the thief.
import test from 'ava'

import { assigned, errorsIn, failure, result, task, testCore } from './harness.js'

/** w1 (one process) holds tasks 1–4; w2 joins and asks to steal 2 and 4 at once (it is idle). */
function stealing() {
  const h = testCore({}, { saturationFactor: 10, roundTripMs: Infinity })
  const c = h.client()
  const w1 = h.worker('w1')
  c.send({ kind: 'submit', tasks: [task(1), task(2), task(3), task(4)] })
  const w2 = h.worker('w2')
  for (const link of [c.link, w2.link]) link.take()
  return { ...h, c, w1, w2 }
}

test('a steal: the victim is asked, gives the task up, and the thief gets it', (t) => {
  const s = stealing()
  const sent = s.w1.link.take()
  t.deepEqual(sent.at(-1), { kind: 'steal', keys: ['c1:2', 'c1:4'] })
  s.w1.send({ kind: 'stealReply', given: ['c1:2'], kept: ['c1:4'] })
  t.deepEqual(s.w2.link.take(), [{ kind: 'assign', tasks: [assigned('c1:2')] }])
  t.deepEqual(s.w1.link.take(), [])
  t.is(s.core.scheduler.task('c1:4')?.workerId, 'w1', 'kept: it stays')
  t.deepEqual(s.c.link.take(), [], 'the client saw them running already')
})

test('cancel during a steal: the victim is told to abort, and so is the thief once it has the task', (t) => {
  const s = stealing()
  s.w1.link.take()
  s.c.send({ kind: 'cancel', ids: [2] })
  t.deepEqual(s.w1.link.take(), [{ kind: 'cancel', keys: ['c1:2'] }])
  // The victim had answered the steal before it saw the cancel.
  s.w1.send({ kind: 'stealReply', given: ['c1:2', 'c1:4'], kept: [] })
  t.deepEqual(s.w2.link.take(), [
    { kind: 'assign', tasks: [assigned('c1:2')] },
    { kind: 'cancel', keys: ['c1:2'] },
    { kind: 'assign', tasks: [assigned('c1:4')] },
  ])
  s.w2.send(failure('c1:2', 'aborted', 'AbortedError'))
  t.deepEqual(errorsIn(s.c.link.take()), [
    { id: 2, name: 'AbortedError', code: undefined, message: 'aborted' },
  ])
  t.deepEqual(s.w2.link.takeKind('assign'), [], 'final: not retried')
  s.w2.send(result('c1:4', new Uint8Array([4])))
  t.deepEqual(s.c.link.take(), [
    { kind: 'results', items: [{ id: 4, value: new Uint8Array([4]) }] },
  ])
})

test('cancel during a steal the victim refuses: the task ends on the victim', (t) => {
  const s = stealing()
  s.w1.link.take()
  s.c.send({ kind: 'cancel', ids: [4] })
  t.deepEqual(s.w1.link.take(), [{ kind: 'cancel', keys: ['c1:4'] }])
  s.w1.send({ kind: 'stealReply', given: [], kept: ['c1:2', 'c1:4'] })
  t.deepEqual(s.w2.link.take(), [])
  s.w1.send(failure('c1:4', 'aborted', 'AbortedError'))
  t.deepEqual(errorsIn(s.c.link.take()), [
    { id: 4, name: 'AbortedError', code: undefined, message: 'aborted' },
  ])
})

test('a steal of a task whose assign waits for relayed inputs is answered here: the thief gets it', (t) => {
  const h = testCore({}, { saturationFactor: 10, roundTripMs: Infinity })
  const c = h.client()
  const w1 = h.worker('w1', { host: 'a' })
  c.send({ kind: 'submit', tasks: [task(1, { opts: { workers: ['a'] } })] })
  w1.send(result('c1:1', undefined, 100_000))
  const w2 = h.worker('w2', { host: 'b' })
  // Task 3 (a function of unknown, so long, duration) keeps w2's process busy; task 2 needs
  // task 1 (held on w1) and waits behind it.
  const slow = { kind: 'module', url: 'file:///tasks.js', exportName: 'slow' } as const
  c.send({ kind: 'submit', tasks: [task(3, { fn: slow, opts: { workers: ['b'] } })] })
  for (const link of [w1.link, w2.link]) link.take()
  c.send({ kind: 'submit', tasks: [task(2, { deps: [1], opts: { workers: ['b'] } })] })
  t.deepEqual(w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  t.deepEqual(w2.link.take(), [], 'task 2 waits for its input')
  t.is(h.core.scheduler.task('c1:2')?.workerId, 'w2')

  const w3 = h.worker('w3', { host: 'b' })
  t.deepEqual(w2.link.take(), [], 'w2 is not asked: it does not have the task yet')
  t.deepEqual(w1.link.take(), [], 'the fetch in flight serves the thief too')
  t.is(h.core.scheduler.task('c1:2')?.workerId, 'w3', 'stolen at once')
  const value = new Uint8Array(100_000).fill(6)
  w1.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(w2.link.take(), [])
  const assigned = w3.link.takeKind('assign')
  t.deepEqual(
    assigned.flatMap((m) => m.tasks.map((x) => [x.key, x.deps])),
    [['c1:2', [{ id: 1, key: 'c1:1', value, keep: true }]]],
  )
})

test('a late result from the victim after it gave the task up is a violation (a stale steal reply is not); the thief’s counts', (t) => {
  const s = stealing()
  s.w1.link.take()
  s.w1.send({ kind: 'stealReply', given: ['c1:2'], kept: ['c1:4'] })
  s.w2.link.take()
  s.w1.send(result('c1:2', new Uint8Array([0x66])))
  s.w1.send({ kind: 'stealReply', given: ['c1:2'], kept: [] })
  t.is(s.w1.session.violations, 1)
  t.is(s.core.scheduler.task('c1:2')?.workerId, 'w2', 'still the thief’s')
  t.deepEqual(s.c.link.take(), [])
  s.w2.send(result('c1:2', new Uint8Array([2])))
  t.deepEqual(s.c.link.take(), [
    { kind: 'results', items: [{ id: 2, value: new Uint8Array([2]) }] },
  ])
})
