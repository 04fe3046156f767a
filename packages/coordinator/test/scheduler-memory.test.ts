// The scheduler and worker memory: a paused worker gets nothing (others steal its queue), a
// worker near its limit gets a task only when no other can take it, and a value a worker lost
// (its spill file unreadable) is computed again from its lineage, or fails if scattered.
import test from 'ava'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const ofType = <T extends Decision['type']>(
  ds: readonly Decision[],
  type: T,
): Extract<Decision, { type: T }>[] =>
  ds.filter((d): d is Extract<Decision, { type: T }> => d.type === type)
const assigns = (ds: readonly Decision[]): AssignDecision[] => ofType(ds, 'assign')

function twoWorkers(procs = 1): Scheduler {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', procs }, 0)
  s.addWorker({ id: 'b', name: 'beta', procs }, 0)
  s.takeDecisions()
  return s
}

test('a worker near its memory limit gets tasks only when the other has no room', (t) => {
  const s = twoWorkers()
  s.workerMemory('a', 0.75)
  s.submit({ key: 'x1', fnKey: 'f', clientId: 'c' }, 1)
  t.like(assigns(s.takeDecisions()), [{ key: 'x1', workerId: 'b' }])
  // b's one process is taken (and its prefetch room, with an unknown duration): a takes the next.
  for (let i = 2; i < 6; i++) s.submit({ key: `x${i}`, fnKey: 'f', clientId: 'c' }, i)
  const rest = assigns(s.takeDecisions())
  t.true(
    rest.some((d) => d.workerId === 'a'),
    'a still works when b cannot take more',
  )
})

test('back under the limit, a worker is chosen again on its own merits', (t) => {
  const s = twoWorkers()
  s.workerMemory('b', 0.9)
  s.workerMemory('b', 0.1)
  s.workerMemory('a', 0.75)
  s.submit({ key: 'x1', fnKey: 'f', clientId: 'c' }, 1)
  t.like(assigns(s.takeDecisions()), [{ key: 'x1', workerId: 'b' }])
})

test('a paused worker receives nothing; resumed, it takes the queue again', (t) => {
  const s = twoWorkers()
  s.pauseWorker('a', 1)
  for (let i = 0; i < 4; i++) s.submit({ key: `x${i}`, fnKey: 'f', clientId: 'c' }, 1)
  const first = assigns(s.takeDecisions())
  t.true(first.length > 0)
  t.true(first.every((d) => d.workerId === 'b'))
  s.resumeWorker('a', 2)
  const later = assigns(s.takeDecisions())
  t.true(
    later.some((d) => d.workerId === 'a'),
    'resumed, a takes queued tasks',
  )
})

test('dataLost with no other copy recomputes the value from its lineage', (t) => {
  const s = twoWorkers()
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 1)
  const [ax] = assigns(s.takeDecisions())
  s.taskFinished('x', ax!.workerId, { nbytes: 16e6, durationMs: 5 }, 2)
  s.takeDecisions()
  t.is(s.task('x')?.state, 'memory')
  s.dataLost('x', ax!.workerId, 3)
  const ds = s.takeDecisions()
  t.is(ofType(ds, 'recomputing').length, 1)
  t.like(assigns(ds), [{ key: 'x' }], 'x runs again')
  t.deepEqual(s.whoHas('x'), [])
})

test('dataLost from a worker that is not a holder changes nothing; with a replica left the value stays', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd', clientId: 'c', nbytes: 10, workers: ['alpha'] }, 1)
  s.takeDecisions()
  s.dataLost('d', 'b', 2)
  t.deepEqual(s.whoHas('d'), ['a'])
  s.addReplica('d', 'b', 3)
  s.dataLost('d', 'a', 4)
  t.deepEqual(s.whoHas('d'), ['b'])
  t.is(s.task('d')?.state, 'memory')
  t.is(ofType(s.takeDecisions(), 'failed').length, 0)
})

test('scattered data lost from its only spill file fails with data-lost', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd', clientId: 'c', nbytes: 10, workers: ['alpha'] }, 1)
  s.takeDecisions()
  s.dataLost('d', 'a', 2)
  t.like(ofType(s.takeDecisions(), 'failed'), [{ key: 'd', reason: 'data-lost' }])
})

test('a dependent still runs where its big input is, even on a worker near its limit', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'big', clientId: 'c', nbytes: 50e6, workers: ['alpha'] }, 1)
  s.takeDecisions()
  s.workerMemory('a', 0.75)
  s.submit({ key: 'use', fnKey: 'f', clientId: 'c', deps: ['big'] }, 2)
  t.like(assigns(s.takeDecisions()), [{ key: 'use', workerId: 'a' }], 'not moved to be held twice')
})
